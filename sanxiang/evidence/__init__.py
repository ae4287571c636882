"""Evidence: resumable uploads (tus 1.0), content-addressed storage, custody,
recorders, retention, legal holds and fixity (seed 记录-5 … 记录-12)."""
