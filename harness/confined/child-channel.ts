/**
 * The confined child's end of the wire (channel.ts), opened before the architecture module
 * is imported. Everything it signs, serializes and writes with is captured here first, and
 * the prototypes those functions call through are frozen, so module code that runs later
 * can neither reach the key nor change what a signed reply says on its way out. What the
 * reply *contains* is computed in the same process as the module, so the parent treats the
 * figures in it (the FLOP ledger, parameter counts) as claims and checks them against what
 * it measures itself.
 */
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import v8 from 'node:v8';
import { HEADER_BYTES, KEY_BYTES } from './channel.ts';

const REQUESTS_FD = 3;
const REPLIES_FD = 4;

// Captured as values, not live bindings: module.syncBuiltinESMExports() would carry a patched export into an import binding.
const createHmac = crypto.createHmac;
const createSecretKey = crypto.createSecretKey;
const readSync = fs.readSync;
const writeSync = fs.writeSync;
const serialize = v8.serialize;
const deserialize = v8.deserialize;
const alloc = Buffer.alloc;
const concat = Buffer.concat;

/** Read exactly n bytes from fd 3, blocking; null at end of stream (the harness is gone). */
function readExactly(n: number): Buffer | null {
  const b = alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(REQUESTS_FD, b, got, n - got, null);
    if (r === 0) return null;
    got += r;
  }
  return b;
}

function writeAll(b: Buffer): void {
  let off = 0;
  while (off < b.length) off += writeSync(REPLIES_FD, b, off, b.length - off);
}

/** Freeze the prototypes that signing and serializing call through (methods only: no instance shadows them). */
function freezeWireRuntime(): void {
  // Hmac.prototype holds update() and digest(); its parents are the stream classes every socket shares, left alone
  Object.freeze(Object.getPrototypeOf(createHmac('sha256', 'probe')));
  for (const c of [v8.Serializer, v8.Deserializer, v8.DefaultSerializer, v8.DefaultDeserializer]) Object.freeze(c.prototype);
  Object.freeze(v8);
  Object.freeze(Buffer.prototype);
  Object.freeze(Buffer);
}

export interface ChildChannel {
  /** the next request, blocking until it comes (nothing of the module's runs meanwhile); null when the harness is gone */
  read(): unknown | null;
  write(message: unknown): void;
}

/** Take the key from fd 3 and return the channel; call once, before the module is imported. */
export function openChildChannel(): ChildChannel {
  const raw = readExactly(KEY_BYTES);
  if (!raw) process.exit(1);
  const key: KeyObject = createSecretKey(raw);
  raw.fill(0);
  freezeWireRuntime();
  let seq = 0;
  return {
    read() {
      const header = readExactly(HEADER_BYTES);
      if (!header) return null;
      const payload = readExactly(header.readUInt32BE(0));
      return payload ? deserialize(payload) : null;
    },
    write(message) {
      const payload = serialize(message);
      const header = alloc(HEADER_BYTES);
      header.writeUInt32BE(payload.length, 0);
      header.writeUInt32BE(seq++, 4);
      const mac = createHmac('sha256', key).update(header).update(payload).digest();
      writeAll(concat([header, mac, payload]));
    },
  };
}
