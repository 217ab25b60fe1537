// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: the Unix sockets of this network namespace, from the kernel's
// sock_diag interface (NETLINK_SOCK_DIAG, what `ss -x` uses), with for each
// bound socket the identity (device + inode) of its socket file. That
// identity is what tells a live socket's file from a stale one however the
// socket was bound (relative path, symlinked directory) and however the file
// is found: /proc/net/unix has only the path string as the binder spelled it,
// and its inode column is the socket's (sockfs), not the file's.

import { C, E } from "../_ffi/constants.ts";
import { closeFd } from "../_ffi/fd.ts";
import { errno, libc } from "../_ffi/libc.ts";

/** One Unix socket the kernel reports. */
export interface UnixSocket {
  /** The socket's own inode (the N of `socket:[N]` in /proc/PID/fd). */
  ino: number;
  /** SOCK_STREAM (1), SOCK_DGRAM (2), SOCK_SEQPACKET (5). */
  type: number;
  /** TCP_LISTEN (10), TCP_ESTABLISHED (1), TCP_CLOSE (7: bound, not listening). */
  state: number;
  /**
   * The bound name: a path as the binder spelled it (no trailing NUL), or
   * an abstract name starting with a NUL byte; null when unbound.
   */
  name: Uint8Array | null;
  /**
   * The socket file: device (user-space encoding, as `stat` reports it) and
   * the low 32 bits of its inode (all the kernel reports). Null for abstract
   * and unbound sockets, and when sock_diag was not available.
   */
  file: { dev: bigint; ino32: bigint } | null;
}

/** The key of a socket file in the map from file identity to sockets. */
export function fileKey(dev: bigint, ino: bigint): string {
  return `${dev}:${ino & 0xffffffffn}`;
}

/** glibc's makedev(): the user-space dev_t of a major and minor number. */
export function makedev(major: bigint, minor: bigint): bigint {
  return ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) |
    ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
}

/** Whether the environment asks to skip sock_diag (tests of the fallback). */
function disabled(): boolean {
  try {
    return Deno.env.get("POSIX_IPC_NO_SOCK_DIAG") === "1";
  } catch {
    return false;
  }
}

/**
 * Every Unix socket of this network namespace, with names and socket-file
 * identities; null when sock_diag is not available (not Linux, a kernel
 * without unix_diag, a sandbox that forbids netlink).
 */
export function unixSocketsFromKernel(): UnixSocket[] | null {
  if (disabled() || C.NETLINK_SOCK_DIAG < 0) return null;
  const lib = libc();
  const fd = lib.socket(
    C.AF_NETLINK,
    C.SOCK_RAW | C.SOCK_CLOEXEC,
    C.NETLINK_SOCK_DIAG,
  );
  if (fd === -1) return null;
  try {
    return dump(fd);
  } finally {
    closeFd(fd);
  }
}

function dump(fd: number): UnixSocket[] | null {
  const lib = libc();
  const H = C.NLMSG_HDRLEN;
  const req = new Uint8Array(H + C.SIZEOF_UNIX_DIAG_REQ);
  const rv = new DataView(req.buffer);
  rv.setUint32(0, req.length, true); // nlmsg_len
  rv.setUint16(4, C.SOCK_DIAG_BY_FAMILY, true); // nlmsg_type
  rv.setUint16(6, C.NLM_F_REQUEST | C.NLM_F_DUMP, true); // nlmsg_flags
  rv.setUint32(8, 1, true); // nlmsg_seq
  rv.setUint8(H + 0, C.AF_UNIX); // sdiag_family
  rv.setUint32(H + 4, 0xffffffff, true); // udiag_states: every state
  rv.setUint32(H + 12, C.UDIAG_SHOW_NAME | C.UDIAG_SHOW_VFS, true); // udiag_show
  rv.setUint32(H + 16, 0xffffffff, true); // udiag_cookie: none
  rv.setUint32(H + 20, 0xffffffff, true);
  if (Number(lib.send(fd, req, BigInt(req.length), 0)) !== req.length) {
    return null;
  }
  const out: UnixSocket[] = [];
  const buf = new Uint8Array(64 * 1024);
  const view = new DataView(buf.buffer);
  const pfd = new Uint8Array(8);
  const pv = new DataView(pfd.buffer);
  for (;;) {
    // The kernel answers at once; the timeout only guards against a hang.
    pv.setInt32(0, fd, true);
    pv.setInt16(4, C.POLLIN, true);
    pv.setInt16(6, 0, true);
    if (lib.poll(pfd, 1n, 2000) !== 1) return null;
    const n = Number(lib.recv(fd, buf, BigInt(buf.length), C.MSG_DONTWAIT));
    if (n < 0) {
      if (errno() === E.EINTR || errno() === E.EAGAIN) continue;
      return null;
    }
    if (n === 0) return null;
    for (let off = 0; off + H <= n;) {
      const len = view.getUint32(off, true);
      const type = view.getUint16(off + 4, true);
      if (len < H || off + len > n) return null;
      if (type === C.NLMSG_DONE) return out;
      if (type === C.NLMSG_ERROR) return null;
      if (type === C.SOCK_DIAG_BY_FAMILY) {
        const socket = parseMessage(buf, off + H, off + len);
        if (socket) out.push(socket);
      }
      off += (len + 3) & ~3;
    }
  }
}

/** struct unix_diag_msg followed by rtattrs (UNIX_DIAG_NAME, UNIX_DIAG_VFS). */
function parseMessage(
  buf: Uint8Array,
  start: number,
  end: number,
): UnixSocket | null {
  if (end - start < C.SIZEOF_UNIX_DIAG_MSG) return null;
  const view = new DataView(buf.buffer, buf.byteOffset);
  const socket: UnixSocket = {
    ino: view.getUint32(start + 4, true),
    type: view.getUint8(start + 1),
    state: view.getUint8(start + 2),
    name: null,
    file: null,
  };
  for (let a = start + C.SIZEOF_UNIX_DIAG_MSG; a + 4 <= end;) {
    const len = view.getUint16(a, true);
    const type = view.getUint16(a + 2, true);
    if (len < 4 || a + len > end) break;
    const data = buf.subarray(a + 4, a + len);
    if (type === C.UNIX_DIAG_NAME && data.length > 0) {
      if (data[0] === 0) {
        socket.name = data.slice(); // abstract: every byte counts
      } else {
        const nul = data.indexOf(0);
        socket.name = data.slice(0, nul === -1 ? data.length : nul);
      }
    } else if (type === C.UNIX_DIAG_VFS && data.length >= 8) {
      const ino = view.getUint32(a + 4, true);
      // The kernel's dev_t: major in the high 12 bits, minor in the low 20.
      const kdev = view.getUint32(a + 8, true);
      socket.file = {
        dev: makedev(BigInt(kdev >>> 20), BigInt(kdev & 0xfffff)),
        ino32: BigInt(ino),
      };
    }
    a += (len + 3) & ~3;
  }
  return socket;
}

/**
 * The fallback when sock_diag is not available: /proc/net/unix. It has the
 * path as the binder spelled it (relative, or through a symlink), printed
 * raw, and no file identity: good for listing, never proof that a socket
 * file is stale.
 */
export function unixSocketsFromProc(): UnixSocket[] {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/net/unix");
  } catch {
    return [];
  }
  const out: UnixSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const parts = line.trim().split(/\s+/);
    if (parts.length < 7) continue;
    const path = parts.slice(7).join(" ");
    const flags = parseInt(parts[3]!, 16);
    out.push({
      ino: Number(parts[6]),
      type: parseInt(parts[4]!, 16),
      // Flags 0x10000 (__SO_ACCEPTCON): listening; St 03: connected.
      state: flags & 0x10000
        ? C.TCP_LISTEN
        : parts[5] === "03"
        ? C.TCP_ESTABLISHED
        : C.TCP_CLOSE,
      name: path === ""
        ? null
        : path.startsWith("@")
        ? new TextEncoder().encode(`\0${path.slice(1)}`)
        : new TextEncoder().encode(path),
      file: null,
    });
  }
  return out;
}
