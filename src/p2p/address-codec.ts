/**
 * The wire forms of {@link Ingress} and {@link Address} (commonware `p2p/src/types.rs`):
 * `Ingress = 0x00 || SocketAddr | 0x01 || Hostname || port u16 BE`;
 * `Address = 0x00 || SocketAddr | 0x01 || Ingress || SocketAddr`. The lookup protocol never
 * sends an `Address`; discovery's signed `Info` carries an `Ingress`. Re-exported by
 * `./address.ts`.
 *
 * @module
 */

import {
  type Codec,
  CodecError,
  hostname as hostnameCodec,
  socketAddr as socketAddrCodec,
} from '../codec/index.js';
import { type Address, formatIngress, type Ingress } from './address.js';

const INGRESS_SOCKET = 0x00;
const INGRESS_DNS = 0x01;
const ADDRESS_SYMMETRIC = 0x00;
const ADDRESS_ASYMMETRIC = 0x01;

/** `Ingress`: `0x00 || SocketAddr` or `0x01 || Hostname || port u16 BE`. */
export const ingressCodec: Codec<Ingress> = {
  encodeSize: (v) =>
    1 +
    (v.kind === 'socket'
      ? socketAddrCodec.encodeSize(v.addr)
      : hostnameCodec.encodeSize(v.host) + 2),
  write: (v, w) => {
    if (v.kind === 'socket') {
      w.u8(INGRESS_SOCKET);
      socketAddrCodec.write(v.addr, w);
    } else {
      w.u8(INGRESS_DNS);
      hostnameCodec.write(v.host, w);
      w.u16(v.port);
    }
  },
  read: (r) => {
    const tag = r.u8();
    if (tag === INGRESS_SOCKET) return { kind: 'socket', addr: socketAddrCodec.read(r) };
    if (tag === INGRESS_DNS) {
      const host = hostnameCodec.read(r);
      return { kind: 'dns', host, port: r.u16() };
    }
    throw new CodecError('InvalidEnum', `Ingress: invalid prefix ${tag}`, { context: 'Ingress' });
  },
};

/** commonware's `Address` has no bare-name variant: a `named` address cannot be encoded. */
function unencodable(v: Address & { readonly kind: 'named' }): TypeError {
  return new TypeError(
    `Address: a named address (${formatIngress(v.ingress)}) has no wire form; ` +
      'encode { ingress, egress } or the ingress alone',
  );
}

/**
 * `Address`: `0x00 || SocketAddr` or `0x01 || Ingress || SocketAddr (egress)`.
 *
 * @throws TypeError when encoding a `named` address (commonware's wire form has no such variant;
 *   p2p never sends an `Address` on the wire). Decoding never yields one.
 */
export const addressCodec: Codec<Address> = {
  encodeSize: (v) => {
    if (v.kind === 'named') throw unencodable(v);
    return (
      1 +
      (v.kind === 'symmetric'
        ? socketAddrCodec.encodeSize(v.addr)
        : ingressCodec.encodeSize(v.ingress) + socketAddrCodec.encodeSize(v.egress))
    );
  },
  write: (v, w) => {
    if (v.kind === 'named') throw unencodable(v);
    if (v.kind === 'symmetric') {
      w.u8(ADDRESS_SYMMETRIC);
      socketAddrCodec.write(v.addr, w);
    } else {
      w.u8(ADDRESS_ASYMMETRIC);
      ingressCodec.write(v.ingress, w);
      socketAddrCodec.write(v.egress, w);
    }
  },
  read: (r) => {
    const tag = r.u8();
    if (tag === ADDRESS_SYMMETRIC) return { kind: 'symmetric', addr: socketAddrCodec.read(r) };
    if (tag === ADDRESS_ASYMMETRIC) {
      const ingress = ingressCodec.read(r);
      return { kind: 'asymmetric', ingress, egress: socketAddrCodec.read(r) };
    }
    throw new CodecError('InvalidEnum', `Address: invalid prefix ${tag}`, { context: 'Address' });
  },
};
