import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  type IdentityProvider,
  InternalError,
  RekorWitness,
  type Signature,
  type Signer,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { ConfigurationError, InvalidValueError, SlipwayError } from '../core/errors.js';
import { type BundleJson, IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPE, type Statement } from './types.js';

// Signs an in-toto statement into a Sigstore bundle v0.3 (DSSE), keyless through Fulcio or with a private key.
//
// Retries: @sigstore/sign's fetchWithRetry (dist/external/fetch.js) retries 408, 429 and every 5xx itself, via
// @gar/promise-retry; a bare number of retries means fixed exponential delays without jitter, so we pass the
// object form with `randomize` to spread parallel matrix jobs that Fulcio rate-limited together.
// Rekor 409 ("equivalent entry already exists", e.g. after a POST that timed out but was committed) counts as
// success: TLogClient fetches the existing entry from the Location header when fetchOnConflict is set.

export interface KeylessOptions {
  kind: 'keyless';
  fulcioUrl: string;
  /** Called once per signature; the token is never logged nor put in an error message. */
  identityToken: () => Promise<string>;
  rekorUrl?: string;
  tsaUrl?: string;
}

export interface KeyOptions {
  kind: 'key';
  /** PKCS#8, SEC1 or PKCS#1 PEM of an EC P-256, RSA or Ed25519 private key (unencrypted). */
  privateKeyPem: string;
  rekorUrl?: string;
  tsaUrl?: string;
}

export interface SignFetchOptions {
  /** Per request, in milliseconds. */
  timeout?: number;
  /** Retries of a failed request (network error, 408, 429, 5xx), with jittered exponential backoff. */
  retry?: number;
}

const DEFAULT_TIMEOUT = 10_000;
const DEFAULT_RETRIES = 3;

export async function signStatement(
  statement: Statement,
  options: KeylessOptions | KeyOptions,
  fetchOptions: SignFetchOptions = {},
): Promise<BundleJson> {
  checkStatement(statement);
  const fetch = {
    timeout: fetchOptions.timeout ?? DEFAULT_TIMEOUT,
    retry: {
      retries: fetchOptions.retry ?? DEFAULT_RETRIES,
      factor: 2,
      minTimeout: 1_000,
      maxTimeout: 15_000,
      randomize: true,
    },
  };
  const rekorUrl = options.rekorUrl === undefined ? undefined : serviceUrl('Rekor URL', options.rekorUrl);
  const tsaUrl = options.tsaUrl === undefined ? undefined : serviceUrl('timestamp authority URL', options.tsaUrl);
  const witnesses: Witness[] = [];
  if (rekorUrl !== undefined) {
    witnesses.push(new RekorWitness({ rekorBaseURL: rekorUrl, entryType: 'dsse', fetchOnConflict: true, ...fetch }));
  }
  if (tsaUrl !== undefined) witnesses.push(new TSAWitness({ tsaBaseURL: tsaUrl, ...fetch }));

  let signer: Signer;
  // Held so that any error text the libraries build from it can be scrubbed.
  let token: string | undefined;
  let fulcioUrl = '';
  if (options.kind === 'keyless') {
    fulcioUrl = serviceUrl('Fulcio URL', options.fulcioUrl);
    if (witnesses.length === 0) {
      throw new SlipwayError(
        'Keyless signing needs a Rekor URL or a timestamp authority URL (or both): a signature with neither a ' +
          'transparency log entry nor a timestamp cannot be verified once its short-lived certificate expires.',
      );
    }
    const identityProvider: IdentityProvider = {
      getToken: async () => {
        token = await options.identityToken();
        return token;
      },
    };
    signer = new FulcioSigner({ fulcioBaseURL: fulcioUrl, identityProvider, ...fetch });
  } else {
    signer = keySigner(options.privateKeyPem);
  }

  try {
    const bundle = await new DSSEBundleBuilder({ signer, witnesses }).create({
      data: Buffer.from(JSON.stringify(statement)),
      type: IN_TOTO_PAYLOAD_TYPE,
    });
    return { ...bundleToJSON(bundle) };
  } catch (error) {
    throw explain(error, { fulcioUrl, rekorUrl: rekorUrl ?? '', tsaUrl: tsaUrl ?? '' }, token);
  }
}

/**
 * A Signer over a private key held in memory. The bundle names the key only by its hint (base64 SHA-256 of
 * the SPKI DER), which verifiers use to look the public key up.
 */
export function keySigner(privateKeyPem: string): Signer {
  const key = readSigningKey(privateKeyPem);
  // readSigningKey refused every key without an algorithm.
  const algorithm = signingAlgorithm(key) as string | null;
  const publicKey = createPublicKey(key);
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const hint = keyHint(der);
  return {
    sign: async (data: Buffer): Promise<Signature> => ({
      signature: cryptoSign(algorithm, data, key),
      key: { $case: 'publicKey', publicKey: pem, hint },
    }),
  };
}

const KEY_EXPECTED =
  'a PEM private key, the key itself and not a path to it (unencrypted PKCS#8, SEC1 or PKCS#1; EC P-256, RSA or Ed25519)';

/**
 * The private key of the `key` input, checked before anything else runs. The value is a secret: errors say
 * what is wrong with it, never show it, and drop OpenSSL's error (which can only be about the value).
 */
export function readSigningKey(privateKeyPem: string, input = 'key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new ConfigurationError(input, undefined, KEY_EXPECTED, whyNotAKey(privateKeyPem));
  }
  if (signingAlgorithm(key) === undefined) {
    throw new ConfigurationError(input, undefined, KEY_EXPECTED, `it is ${describeKey(key)}`);
  }
  return key;
}

/** What is wrong with a value OpenSSL could not read, said from its shape alone. */
function whyNotAKey(value: string): string {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(value)?.[1];
  if (label === undefined) {
    return /^[~.]?[\w./\\-]+$/.test(value.trim()) && !value.includes('\n')
      ? // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression shown to the user, not a template.
        "it looks like a file path; pass the key's contents, e.g. key: ${{ secrets.SIGNING_KEY }}"
      : 'it is not PEM (there is no -----BEGIN … PRIVATE KEY----- line)';
  }
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(value)) {
    return 'it is passphrase-protected, which is not supported; export it unencrypted into a secret';
  }
  if (!label.endsWith('PRIVATE KEY')) return `it is a PEM ${label}, not a private key`;
  return `its ${label} block cannot be decoded`;
}

/** The hint a key-signed bundle carries: base64 of the SHA-256 of the public key's SPKI DER. */
export function keyHint(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('base64');
}

/**
 * The digest to sign with, matching what @sigstore/verify checks with: it calls crypto.verify without an
 * algorithm, i.e. OpenSSL's default, which is SHA-256 for EC and RSA (PKCS#1 v1.5) and none for Ed25519. Other
 * curves would sign with a digest the verifier does not use, so they are refused here rather than there.
 */
function signingAlgorithm(key: KeyObject): string | null | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return null;
  if (type === 'rsa') return 'sha256';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'sha256';
  return undefined;
}

function describeKey(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  return type === 'ec'
    ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}`
    : `a ${type ?? 'unknown'} key`;
}

function checkStatement(statement: Statement): void {
  if (statement._type !== STATEMENT_TYPE) {
    throw new InvalidValueError('in-toto statement type', String(statement._type), STATEMENT_TYPE);
  }
  if (statement.subject.length === 0) {
    throw new InvalidValueError('in-toto statement', statement.predicateType, 'at least one subject');
  }
}

function serviceUrl(what: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidValueError(what, value, 'an http(s) URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InvalidValueError(what, value, 'an http(s) URL');
  }
  // The clients append /api/v…; a trailing slash would double it.
  return value.replace(/\/+$/, '');
}

const JWT_SHAPE = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

/** Turns a sign-library failure into a message naming the service and URL; the identity token never appears. */
function explain(error: unknown, urls: { fulcioUrl: string; rekorUrl: string; tsaUrl: string }, token?: string): Error {
  if (error instanceof SlipwayError) return error;
  const scrub = (text: string) =>
    (token ? text.split(token).join('[identity token]') : text).replace(JWT_SHAPE, '[identity token]');
  const code = error instanceof InternalError ? error.code : undefined;
  // The library prefixes its own summary; the HTTP status and service message are in the cause.
  const cause = error instanceof InternalError && error.cause instanceof Error ? error.cause : error;
  const detail = scrub(cause instanceof Error ? cause.message : String(cause));
  let message: string;
  switch (code) {
    case 'IDENTITY_TOKEN_READ_ERROR':
      message = `Could not get an OIDC identity token for Fulcio at ${urls.fulcioUrl}: ${detail}`;
      break;
    case 'IDENTITY_TOKEN_PARSE_ERROR':
      // The library's message embeds the whole token; ours says only what is wrong with it.
      message = `The OIDC identity token for Fulcio at ${urls.fulcioUrl} is not a JWT with a subject claim.`;
      break;
    case 'CA_CREATE_SIGNING_CERTIFICATE_ERROR':
      message = `Fulcio at ${urls.fulcioUrl} refused the signing certificate request: ${detail}`;
      break;
    case 'TLOG_CREATE_ENTRY_ERROR':
      message = `Rekor at ${urls.rekorUrl} did not log the signature: ${detail}`;
      break;
    case 'TLOG_FETCH_ENTRY_ERROR':
      message = `Rekor at ${urls.rekorUrl} said the signature is already logged, but fetching that entry failed: ${detail}`;
      break;
    case 'TSA_CREATE_TIMESTAMP_ERROR':
      message = `The timestamp authority at ${urls.tsaUrl} did not timestamp the signature: ${detail}`;
      break;
    default:
      message = `Signing failed: ${scrub(error instanceof Error ? error.message : String(error))}`;
  }
  const wrapped = new SlipwayError(message);
  // Keep the cause for debug logs, but not one whose text carries the token.
  if (code !== 'IDENTITY_TOKEN_PARSE_ERROR') {
    const original = error instanceof Error ? error.message : String(error);
    const clean =
      scrub(original) === original &&
      scrub(String(cause instanceof Error ? cause.message : '')) ===
        String(cause instanceof Error ? cause.message : '');
    wrapped.cause = clean ? error : new Error(scrub(original));
  }
  return wrapped;
}
