import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';

/** A signed order as it travels: the value, the generals who signed it in order, and their Ed25519 signatures. */
export interface SignedMessage {
  readonly value: string;
  readonly signers: readonly number[];
  readonly signatures: readonly Uint8Array[];
}

export interface KeyRing {
  readonly publicKeys: readonly KeyObject[];
  readonly privateKeys: readonly KeyObject[];
}

/** One Ed25519 key pair per general. */
export function generateKeyRing(generals: number): KeyRing {
  const pairs = Array.from({ length: generals }, () => generateKeyPairSync('ed25519'));
  return { publicKeys: pairs.map((p) => p.publicKey), privateKeys: pairs.map((p) => p.privateKey) };
}

/**
 * What signer number `position` signs: the value, the signers so far (itself included) and the
 * previous signature, so a signature cannot be lifted onto another value or another chain.
 */
function payload(value: string, signers: readonly number[], position: number, previous: Uint8Array | undefined): Buffer {
  const head = Buffer.from(`${value}\u0000${signers.slice(0, position + 1).join(',')}\u0000`, 'utf8');
  return previous === undefined ? head : Buffer.concat([head, previous]);
}

/** The commander's signed order. */
export function signOrder(value: string, commanderKey: KeyObject): SignedMessage {
  const signers = [0];
  return { value, signers, signatures: [new Uint8Array(sign(null, payload(value, signers, 0, undefined), commanderKey))] };
}

/** `message` countersigned by `signer`, ready to relay. */
export function countersign(message: SignedMessage, signer: number, key: KeyObject): SignedMessage {
  const signers = [...message.signers, signer];
  const previous = message.signatures[message.signatures.length - 1];
  const signature = new Uint8Array(sign(null, payload(message.value, signers, signers.length - 1, previous), key));
  return { value: message.value, signers, signatures: [...message.signatures, signature] };
}

/**
 * A traitor's attempt to relay `value` instead of the signed one: it keeps the chain it received
 * and countersigns the altered value. It cannot produce the commander's signature over the new
 * value, so every loyal receiver's check fails.
 */
export function alter(message: SignedMessage, value: string, signer: number, key: KeyObject): SignedMessage {
  return countersign({ ...message, value }, signer, key);
}

/**
 * Accepts a message received from `sender` by `receiver` in round `round` only if the chain
 * starts at the commander, has one signer per round, ends with the sender, never repeats a
 * signer or includes the receiver, and every signature verifies.
 */
export function verifyChain(
  message: SignedMessage,
  sender: number,
  receiver: number,
  round: number,
  publicKeys: readonly KeyObject[],
): boolean {
  const { value, signers, signatures } = message;
  if (typeof value !== 'string' || !Array.isArray(signers) || !Array.isArray(signatures)) return false;
  if (signers.length !== round || signatures.length !== round || signers[0] !== 0 || signers[round - 1] !== sender) return false;
  if (new Set(signers).size !== signers.length || signers.includes(receiver)) return false;
  for (let position = 0; position < round; position++) {
    const key = publicKeys[signers[position]!];
    if (key === undefined) return false;
    const data = payload(value, signers, position, position === 0 ? undefined : signatures[position - 1]);
    if (!verify(null, data, key, signatures[position]!)) return false;
  }
  return true;
}
