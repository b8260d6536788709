// Runs firebase-tools' Cloud Storage emulator (its GCS JSON API) on 127.0.0.1 without Java and
// without the rules runtime: the JSON API uses the emulator's admin storage layer, which checks no
// rules, so a no-op rules manager suffices. Prints "listening on http://127.0.0.1:PORT" when ready.
// Usage: node gcs-emulator.js [port] [--exit-with-stdin]
//   port 0 (the default) lets the OS choose; --exit-with-stdin stops it when its stdin closes,
//   so a test run that dies never leaves it behind (the tests hold its stdin open).
// Relies on firebase-tools internals: pinned to 15.34.2 in package.json.
"use strict";
const path = require("path");
const lib = path.join(__dirname, "node_modules", "firebase-tools", "lib", "emulator");
const { StorageEmulator } = require(path.join(lib, "storage", "index.js"));
const { createApp } = require(path.join(lib, "storage", "server.js"));
const { EmulatorRegistry } = require(path.join(lib, "registry.js"));

const port = Number(process.argv[2] || 0);
const exitWithStdin = process.argv.includes("--exit-with-stdin");
const projectId = "deepsentinel-test";

class LoopbackStorageEmulator extends StorageEmulator {
  createRulesManager() {
    return { start: async () => {}, stop: async () => {}, getRuleset: () => undefined };
  }

  async start() {
    this._app = await createApp(projectId, this);
    await new Promise((resolve, reject) => {
      this._server = this._app.listen(port, "127.0.0.1", resolve).on("error", reject);
    });
    this.actualPort = this._server.address().port;
  }

  getInfo() {
    return { name: this.getName(), host: "127.0.0.1", port: this.actualPort || port };
  }

  async stop() {
    await new Promise((resolve) => this._server.close(resolve));
  }
}

(async () => {
  const emulator = new LoopbackStorageEmulator({ projectId, auto_download: false });
  await emulator.start();
  // Registered so that the selfLink/mediaLink URLs it writes carry the real host and port.
  EmulatorRegistry.set(emulator.getName(), emulator);
  process.stdout.write(`listening on http://127.0.0.1:${emulator.actualPort}\n`);
  const stop = () => emulator.stop().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (exitWithStdin) {
    process.stdin.on("end", stop);
    process.stdin.resume();
  }
})().catch((err) => {
  process.stderr.write(`gcs-emulator failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
