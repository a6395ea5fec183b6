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
import { HEADER_BYTES, KEY_BYTES, REQUEST_HEADER_BYTES } from './channel.ts';

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
const Bytes = Uint8Array;
const Memory = ArrayBuffer;

/** Fill `b` from fd 3, blocking; false at end of stream (the harness is gone). */
function fill(b: Uint8Array): boolean {
  let got = 0;
  while (got < b.length) {
    const r = readSync(REQUESTS_FD, b, got, b.length - got, null);
    if (r === 0) return false;
    got += r;
  }
  return true;
}

/** Read exactly n bytes from fd 3 into a new buffer, blocking; null at end of stream. */
function readExactly(n: number): Buffer | null {
  const b = alloc(n);
  return fill(b) ? b : null;
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

/** A request: its message, and the raw bytes after it (channel.ts), valid until the next read. */
export interface Request {
  message: unknown;
  raw: Uint8Array;
}

export interface ChildChannel {
  /** the next request, blocking until it comes (nothing of the module's runs meanwhile); null when the harness is gone */
  read(): Request | null;
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
  // the raw bytes of every request land here: one buffer, grown when a request needs more, read over by the next
  // (constructors captured above, no prototype methods: module code may have patched those by the next request)
  let rawMemory = new Memory(0);
  let rawCapacity = 0;
  return {
    read() {
      const header = readExactly(REQUEST_HEADER_BYTES);
      if (!header) return null;
      const payload = readExactly(header.readUInt32BE(0));
      if (!payload) return null;
      const rawBytes = header.readUInt32BE(8);
      if (rawBytes > rawCapacity) {
        rawCapacity = 4096;
        while (rawCapacity < rawBytes) rawCapacity *= 2;
        rawMemory = new Memory(rawCapacity);
      }
      const raw = new Bytes(rawMemory, 0, rawBytes);
      return fill(raw) ? { message: deserialize(payload), raw } : null;
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
