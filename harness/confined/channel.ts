/**
 * The wire between the harness and a confined child: two private pipes, not Node's IPC
 * channel (whose `process.send`, `process._send` and 'message' listeners module code can
 * reach and rewrite). fd 3 carries requests in, fd 4 replies out.
 *
 * - A reply is [u32 length][u32 sequence][32-byte HMAC-SHA256][v8-serialized message].
 * - A request is [u32 length][u32 sequence][u32 raw length][v8-serialized message][raw bytes]:
 *   the values of large tensors (a step's batch) travel raw after the message, written from
 *   the parent's arrays and read into one reused buffer in the child, not serialized —
 *   serializing a 400 KB batch and copying it twice cost more than the pipe itself
 *   (bench:ipc). The message says where in the raw bytes each tensor lies (RawTensor).
 * - The parent writes a fresh 32-byte key first, before any frame; the child's runtime
 *   reads it before the architecture module is imported and keeps it only as a KeyObject
 *   (key material outside the JS heap, so not in a heap snapshot).
 * - Every reply is signed over its header and payload; the parent drops the run on a reply
 *   that is unsigned, out of sequence or malformed. Module code can write to fd 4, but
 *   without the key its bytes are refused, and the functions the runtime signs and
 *   serializes with are captured and their prototypes frozen before the module loads
 *   (child-channel.ts).
 * Requests need no signature: only the parent holds the writing end of fd 3.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';

export const KEY_BYTES = 32;
export const MAC_BYTES = 32;
export const HEADER_BYTES = 8;
/** a request's header: a reply's, and the length of the raw bytes after its message */
export const REQUEST_HEADER_BYTES = 12;
/** A reply larger than this is refused before it is buffered (evaluation outputs are the largest: a few MB). */
export const MAX_FRAME_BYTES = 512 * 2 ** 20;

export function macOf(key: Buffer | import('node:crypto').KeyObject, header: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(header).update(payload).digest();
}

/**
 * A request frame, as the chunks to write in order (unsigned: only the harness can write it):
 * [u32 length][u32 sequence][u32 raw length][message], then each of `raw` as it is, uncopied.
 */
export function requestFrame(seq: number, message: unknown, raw: readonly ArrayBufferView[] = []): Buffer[] {
  const payload = serialize(message);
  const header = Buffer.alloc(REQUEST_HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(seq, 4);
  header.writeUInt32BE(
    raw.reduce((n, r) => n + r.byteLength, 0),
    8,
  );
  return [Buffer.concat([header, payload]), ...raw.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength))];
}

export class ForgedReply extends Error {}

/**
 * The parent's reader of fd 4: reassembles frames from the stream and checks each one's
 * signature and sequence number before it is parsed at all.
 */
export class ReplyReader {
  private buffered: Buffer = Buffer.alloc(0);
  private seq = 0;
  private dead = false;
  readonly key = randomBytes(KEY_BYTES);

  constructor(
    private readonly onMessage: (m: unknown) => void,
    private readonly onForged: (why: string) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.dead) return; // after a forged reply nothing more from this child is read
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      if (this.buffered.length < HEADER_BYTES + MAC_BYTES) return;
      const length = this.buffered.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) {
        this.forged(`a reply of ${length} bytes (limit ${MAX_FRAME_BYTES})`);
        return;
      }
      const end = HEADER_BYTES + MAC_BYTES + length;
      if (this.buffered.length < end) return;
      const header = this.buffered.subarray(0, HEADER_BYTES);
      const mac = this.buffered.subarray(HEADER_BYTES, HEADER_BYTES + MAC_BYTES);
      const payload = this.buffered.subarray(HEADER_BYTES + MAC_BYTES, end);
      this.buffered = this.buffered.subarray(end);
      if (!timingSafeEqual(mac, macOf(this.key, header, payload))) {
        this.forged('a reply not signed by the harness runtime');
        return;
      }
      const seq = header.readUInt32BE(4);
      if (seq !== this.seq) {
        this.forged(`reply ${seq} where ${this.seq} was due (a replayed or injected reply)`);
        return;
      }
      this.seq++;
      let message: unknown;
      try {
        message = deserialize(payload);
      } catch (e) {
        this.forged(`a signed reply that does not deserialize (${(e as Error).message})`);
        return;
      }
      this.onMessage(message);
    }
  }

  private forged(why: string): void {
    this.dead = true;
    this.buffered = Buffer.alloc(0);
    this.onForged(why);
  }
}
