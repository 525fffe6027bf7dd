import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * A fresh key pair, re-imported from its PKCS#8 encoding before use. Node 20 deadlocks (the process hangs with its
 * main thread in a futex wait) when a garbage collection frees a key-generation job while the key it generated is
 * being read (`asymmetricKeyDetails`, which jose reads): both take that key's mutex. A re-imported key has its own.
 */
export function testKeyPair(
  ...args: [type: 'rsa', options: { modulusLength: number }] | [type: 'ec', options: { namedCurve: string }]
): TestKeyPair {
  const generated = args[0] === 'rsa' ? generateKeyPairSync('rsa', args[1]) : generateKeyPairSync('ec', args[1]);
  const privateKey = createPrivateKey(generated.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const publicKey = createPublicKey(generated.publicKey.export({ format: 'pem', type: 'spki' }));
  return { privateKey, publicKey };
}

/** A key pair for a JWS algorithm (RS*, PS*: RSA 2048; ES256: P-256), as testKeyPair. */
export function testKeyPairFor(alg: string): TestKeyPair {
  return alg.startsWith('ES')
    ? testKeyPair('ec', { namedCurve: 'P-256' })
    : testKeyPair('rsa', { modulusLength: 2048 });
}
