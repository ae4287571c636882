/* Resumable evidence upload from a phone (tus 1.0), no third-party code.
 *
 * 1. The file's SHA-256 is computed here, in slices, with the small
 *    incremental SHA-256 below (crypto.subtle cannot hash incrementally and
 *    is missing on plain-HTTP intranet pages), and declared at creation.
 * 2. Chunks of CHUNK bytes are sent with PATCH, each with Upload-Checksum.
 * 3. A dropped connection is retried with back-off: HEAD gives the offset,
 *    sending resumes there. The upload URL is kept in localStorage, so even
 *    a reloaded page resumes the same upload of the same file.
 * The server hashes the bytes again while they stream in and refuses them
 * if they do not match the declared hash (docs/evidence.md).
 */
(function () {
  "use strict";
  var CHUNK = 4 * 1024 * 1024;
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

  // FIPS 180-4 SHA-256, fed in pieces of any size.
  function Sha256() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Uint32Array(64); this.buf = new Uint8Array(64); this.used = 0; this.total = 0;
  }
  Sha256.prototype.block = function (b, p) {
    var w = this.w, h = this.h, i, t1, t2, x, y;
    for (i = 0; i < 16; i++) w[i] = (b[p + 4 * i] << 24) | (b[p + 4 * i + 1] << 16) | (b[p + 4 * i + 2] << 8) | b[p + 4 * i + 3];
    for (i = 16; i < 64; i++) {
      x = w[i - 15]; y = w[i - 2];
      w[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w[i - 7] +
             (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w[i - 16];
    }
    var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (i = 0; i < 64; i++) {
      t1 = (hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
            ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
            ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  };
  Sha256.prototype.update = function (data) {
    var p = 0, n = data.length;
    this.total += n;
    if (this.used) {
      while (this.used < 64 && p < n) this.buf[this.used++] = data[p++];
      if (this.used < 64) return this;
      this.block(this.buf, 0); this.used = 0;
    }
    for (; p + 64 <= n; p += 64) this.block(data, p);
    while (p < n) this.buf[this.used++] = data[p++];
    return this;
  };
  Sha256.prototype.digest = function () {
    var bits = this.total * 8, pad = new Uint8Array(((this.used < 56) ? 56 : 120) - this.used + 8), i;
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[pad.length - 1 - i] = Math.floor(bits / Math.pow(2, 8 * i)) & 0xff;
    this.update(pad);
    var out = new Uint8Array(32);
    for (i = 0; i < 32; i++) out[i] = (this.h[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
    return out;
  };
  function hex(bytes) { return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join(""); }
  function b64(bytes) { var s = ""; for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]); return btoa(s); }
  function b64text(text) { return b64(new TextEncoder().encode(text)); }
  window.SanxiangSha256 = Sha256;  // for tests
  window.SanxiangSha256Hex = function (bytes) { return hex(new Sha256().update(bytes).digest()); };

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function Uploader(form) {
    this.form = form; this.endpoint = form.dataset.endpoint;
    this.bar = form.querySelector("progress"); this.status = form.querySelector(".upload-status");
    this.csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  }
  Uploader.prototype.say = function (text, cls) { this.status.textContent = text; this.status.className = "upload-status " + (cls || ""); };
  Uploader.prototype.headers = function (extra) {
    var h = {"Tus-Resumable": "1.0.0", "X-CSRFToken": this.csrf};
    for (var k in extra) h[k] = extra[k];
    return h;
  };
  Uploader.prototype.hashFile = async function (file) {
    var sha = new Sha256();
    for (var off = 0; off < file.size; off += CHUNK) {
      sha.update(new Uint8Array(await file.slice(off, off + CHUNK).arrayBuffer()));
      this.bar.value = file.size ? off / file.size : 1;
      this.say("正在计算校验值（SHA-256）… " + Math.round(100 * off / file.size) + "%");
    }
    return hex(sha.digest());
  };
  Uploader.prototype.create = async function (file, sha256) {
    var f = this.form, meta = {
      case: f.dataset.case, step: f.dataset.step, sha256: sha256, filename: file.name,
      captured_at: new Date(file.lastModified || Date.now()).toISOString(),
      device: f.elements.device ? f.elements.device.value : "", place: f.elements.place.value,
      category: f.elements.category ? f.elements.category.value : ""};
    var pairs = [];
    for (var k in meta) if (meta[k]) pairs.push(k + " " + b64text(String(meta[k])));
    var r = await fetch(this.endpoint, {method: "POST", credentials: "same-origin",
      headers: this.headers({"Upload-Length": String(file.size), "Upload-Metadata": pairs.join(",")})});
    if (r.status !== 201) throw new Error(await this.reason(r));
    return r.headers.get("Location");
  };
  Uploader.prototype.reason = async function (r) {
    try { return (await r.json()).message; } catch (e) { return "服务器返回 " + r.status; }
  };
  Uploader.prototype.offset = async function (url) {
    var r = await fetch(url, {method: "HEAD", credentials: "same-origin", headers: this.headers({})});
    if (r.status === 404 || r.status === 410) return -1;
    if (!r.ok) throw new Error("HEAD " + r.status);
    return parseInt(r.headers.get("Upload-Offset"), 10);
  };
  Uploader.prototype.upload = async function (file) {
    var sha256 = await this.hashFile(file), key = "sx-tus:" + this.form.dataset.step + ":" + sha256 + ":" + file.size;
    var url = localStorage.getItem(key), offset = url ? await this.offset(url).catch(function () { return -1; }) : -1;
    if (offset < 0) { url = await this.create(file, sha256); localStorage.setItem(key, url); offset = 0; }
    var wait = 1000;
    while (offset < file.size || file.size === 0) {
      var body = new Uint8Array(await file.slice(offset, offset + CHUNK).arrayBuffer()), r;
      this.say("正在上传… " + Math.round(100 * offset / (file.size || 1)) + "%");
      try {
        r = await fetch(url, {method: "PATCH", credentials: "same-origin", body: body, headers: this.headers({
          "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset),
          "Upload-Checksum": "sha256 " + b64(new Sha256().update(body).digest())})});
      } catch (e) {  // dropped connection: back off, ask the server where it stands, go on
        this.say("网络中断，" + Math.round(wait / 1000) + " 秒后续传…", "warn");
        await sleep(wait); wait = Math.min(wait * 2, 30000);
        offset = await this.offset(url).catch(function () { return offset; });
        if (offset < 0) throw new Error("上传已失效，请重新选择文件。");
        continue;
      }
      wait = 1000;
      if (r.status === 204) {
        offset = parseInt(r.headers.get("Upload-Offset"), 10); this.bar.value = offset / (file.size || 1);
        if (offset >= file.size) { localStorage.removeItem(key); return r.headers.get("Sanxiang-Evidence-Url"); }
      } else if (r.status === 409 || r.status === 460 || r.status === 423) {
        await sleep(500); offset = await this.offset(url);
      } else {
        localStorage.removeItem(key);
        throw new Error(await this.reason(r));
      }
    }
  };

  document.querySelectorAll("form.tus-upload").forEach(function (form) {
    var up = new Uploader(form), input = form.querySelector("input[type=file]");
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      if (!files.length) { up.say("请先选择或拍摄文件。", "warn"); return; }
      form.querySelector("button").disabled = true;
      try {
        for (var i = 0; i < files.length; i++) await up.upload(files[i]);
        up.bar.value = 1; up.say("上传完成，校验一致。", "ok");
        setTimeout(function () { location.reload(); }, 800);
      } catch (e) {
        up.say("上传失败：" + e.message, "error");
      } finally { form.querySelector("button").disabled = false; }
    });
  });
})();
