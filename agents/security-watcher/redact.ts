/**
 * Command lines in evidence without the secrets they often carry. An exec's arguments, a
 * container's command and an image layer's `CreatedBy` hold environment assignments
 * (`env TOKEN=… cmd`, the build args a RUN layer records as `|1 NPM_TOKEN=… /bin/sh -c …`),
 * passwords and tokens given as flags, credentials in URLs and authorization headers. Findings go
 * to logs, webhooks and Redis streams, so these values are replaced by `***`; the programs and
 * the other flags, which the rules decide on, stay.
 */

const MASK = '***';
/**
 * A word longer than this is shown by its length only: such blobs are payloads or keys more
 * often than flags, and the patterns below take time that grows with the square of a word's length.
 */
const MAX_WORD = 256;

/** `NAME=value` (an environment assignment, or a key=value setting): the value goes. */
const ASSIGNMENT = /^(['"]?[A-Za-z_][\w.]*=)(.+)$/;
const SECRET_NAME = String.raw`[\w-]*(?:pass(?:word)?|passwd|pwd|secret|token|api[-_]?key|auth\w*|credentials?|cookie)[\w-]*`;
/** A flag whose value is a secret, `--password=x`: the value goes. */
const SECRET_FLAG_VALUE = new RegExp(String.raw`^(['"]?-{1,2}${SECRET_NAME}=)(.+)$`, 'i');
/** A flag whose value is a secret, `--password x`: the value that follows it goes. */
const SECRET_FLAG = new RegExp(String.raw`^['"]?-{1,2}${SECRET_NAME}['"]?$`, 'i');
/** Flags whose value is `user:password` (curl -u, wget/others --user). */
const USER_FLAG = /^['"]?(?:-u|--user|--proxy-user)['"]?$/;
/** A header name or scheme after which the credential follows: `Authorization: Bearer x`, `Cookie: …`. */
const CREDENTIAL_WORD =
  /^['"]?(?:(?:proxy-)?authorization:|cookie:|bearer|basic|token|x-[\w-]*(?:token|key|auth)[\w-]*:)['"]?$/i;
/** `scheme://user:password@host`. */
const URL_PASSWORD = /(\b[a-z][\w+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi;
/** `?access_token=…&sig=…` in a URL. */
const URL_SECRET_PARAM =
  /([?&][\w.-]*(?:token|key|secret|pass\w*|pwd|sig|signature|auth\w*|credential\w*)=)[^&#\s'"]+/gi;
/** MySQL and MariaDB clients take the password glued to `-p` (`mysql -pSECRET`); elsewhere `-p8080` is a port. */
const MYSQL_CLIENT = /(?:^|\/)(?:mysql[\w-]*|mariadb[\w-]*)['"]?$/;
const GLUED_PASSWORD = /^(['"]?-p)(.+)$/;
/** An authorization scheme: the credential is the word after it. */
const SCHEME = /^['"]?(?:bearer|basic|digest|token)$/i;

/**
 * What one word says about the next ones: `next`, "the following word is a secret"; `mysql`, a
 * MySQL client was named, so `-p…` is a password.
 */
export interface RedactState {
  next: 'secret' | 'user' | undefined;
  mysql?: boolean;
}

/** Redacts the words of one command line. */
function redactWord(word: string, state: RedactState): string {
  const pending = state.next;
  state.next = undefined;
  if (word.length > MAX_WORD) return `${MASK}(${word.length} chars)`;
  if (pending === 'secret') {
    if (!SCHEME.test(word)) return maskKeepingQuotes(word);
    state.next = 'secret'; // `Authorization: Bearer <token>`
    return word;
  }
  if (pending === 'user') return word.replace(/:.*$/, `:${MASK}`);
  if (MYSQL_CLIENT.test(word)) state.mysql = true;
  const glued = state.mysql ? GLUED_PASSWORD.exec(word) : null;
  if (glued) return glued[1] + maskKeepingQuotes(glued[2]!);
  let out = word.replace(URL_PASSWORD, `$1:${MASK}@`).replace(URL_SECRET_PARAM, `$1${MASK}`);
  const assignment = ASSIGNMENT.exec(out) ?? SECRET_FLAG_VALUE.exec(out);
  if (assignment) out = assignment[1] + maskKeepingQuotes(assignment[2]!);
  else if (SECRET_FLAG.test(out) || CREDENTIAL_WORD.test(out)) state.next = 'secret';
  else if (USER_FLAG.test(out)) state.next = 'user';
  return out;
}

function maskKeepingQuotes(value: string): string {
  const close = /['"]$/.exec(value)?.[0] ?? '';
  return MASK + close;
}

/** One text (a shell script, a layer's CreatedBy): whitespace kept, secret values masked. */
export function redactText(text: string, state: RedactState = { next: undefined }): string {
  return text
    .split(/(\s+)/)
    .map((part) => (part === '' || /^\s+$/.test(part) ? part : redactWord(part, state)))
    .join('');
}

/** A command as words (entrypoint and arguments); a word may itself be a script (`sh -c "…"`). */
export function redactCommand(words: readonly string[]): string[] {
  const state: RedactState = { next: undefined };
  return words.map((word) => redactText(word, state));
}
