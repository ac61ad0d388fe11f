/**
 * Command lines in evidence without the secrets they often carry. An exec's arguments, a
 * container's command and an image layer's `CreatedBy` hold environment assignments
 * (`env TOKEN=… cmd`, the build args a RUN layer records as `|1 NPM_TOKEN=… /bin/sh -c …`),
 * passwords and tokens given as flags, credentials in URLs and authorization headers. Findings go
 * to logs, webhooks and Redis streams, so these values are replaced by `***`; the programs and
 * the other flags, which the rules decide on, stay.
 */
import { MASKED as MASK, withoutPassword } from '../../shared/config/uri';

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
/** A URL to the end of its word (`--url=redis://…`, quoted): its password goes, as in every message. */
const URL_IN_WORD = /\b[a-z][\w+.-]*:\/\/.*/gi;
/** `?access_token=…&sig=…` in a URL. */
const URL_SECRET_PARAM =
  /([?&][\w.-]*(?:token|key|secret|pass\w*|pwd|sig|signature|auth\w*|credential\w*)=)[^&#\s'"]+/gi;
/**
 * Programs that take a password as a flag's value: the word after one of `flags`, or the remainder
 * of one of `glued` (`mysql -pS3cret`; for other programs `-p8080` is a port). With `after`, only
 * past that subcommand (`docker login -p x`, while `docker run -p 80:80` publishes a port).
 */
interface PasswordFlags {
  program: RegExp;
  flags?: readonly string[];
  glued?: readonly string[];
  after?: string;
  /** openssl's `-pass pass:x`: a word `pass:…` is a password. */
  passArg?: boolean;
}
const PASSWORD_FLAGS: readonly PasswordFlags[] = [
  { program: /^(?:mysql[\w-]*|mariadb[\w-]*)$/, glued: ['-p'] }, // a bare -p asks for the password
  { program: /^redis-cli$/, flags: ['-a'], glued: ['-a'] },
  { program: /^sshpass$/, flags: ['-p'], glued: ['-p'] },
  { program: /^(?:docker|podman|nerdctl)$/, flags: ['-p'], after: 'login' },
  { program: /^(?:mongo|mongosh)$/, flags: ['-p'] },
  { program: /^openssl$/, flags: ['-k'], passArg: true },
];
/** A program's name as a word: a path and quotes around it allowed (`sh -c '"mysql" -px'`). */
const PROGRAM_NAME = /^['"]*(?:[^\s'"]*\/)?([\w.-]+)['"]*$/;
/** A one-letter flag with its value glued on: `-pS3cret`. */
const GLUED_FLAG = /^(['"]?)(-[A-Za-z])(.+)$/;
/** openssl's `-pass pass:x`, `-passin pass:x`. */
const OPENSSL_PASS_ARG = /^(['"]?pass:)(.+)$/;
/** htpasswd flags that take a value (`-C cost`, `-r rounds`), so that word is no user or password. */
const HTPASSWD_VALUE_FLAG = /^['"]?-[a-zA-Z]*[Cr]['"]?$/;
/** An authorization scheme: the credential is the word after it. */
const SCHEME = /^['"]?(?:bearer|basic|digest|token)$/i;

/**
 * What one word says about the next ones: `next`, "the following word is a secret"; `program`, a
 * program of PASSWORD_FLAGS was named (`armed` once past its subcommand); `htpasswd`, how many
 * user/file words `htpasswd -b` has had before its password.
 */
export interface RedactState {
  next: 'secret' | 'user' | 'value' | undefined;
  program?: PasswordFlags;
  armed?: boolean;
  htpasswd?: { batch: boolean; noFile: boolean; words: number };
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
  if (pending === 'value') return word;
  // Until htpasswd's password, a word named like a program is its file (`/etc/htpasswd`) or user.
  if (!state.htpasswd && noteProgram(word, state)) return word;
  const password = passwordFlag(word, state);
  if (password !== undefined) return password;
  let out = word.replace(URL_IN_WORD, (url) => withoutPassword(url)).replace(URL_SECRET_PARAM, `$1${MASK}`);
  const assignment = ASSIGNMENT.exec(out) ?? SECRET_FLAG_VALUE.exec(out);
  if (assignment) out = assignment[1] + maskKeepingQuotes(assignment[2]!);
  else if (SECRET_FLAG.test(out) || CREDENTIAL_WORD.test(out)) state.next = 'secret';
  else if (USER_FLAG.test(out)) state.next = 'user';
  return out;
}

/** True when the word names a program whose password flags are known (which then apply). */
function noteProgram(word: string, state: RedactState): boolean {
  const name = PROGRAM_NAME.exec(word)?.[1];
  if (name === undefined) return false;
  if (name === 'htpasswd') {
    state.program = undefined;
    state.htpasswd = { batch: false, noFile: false, words: 0 };
    return true;
  }
  const program = PASSWORD_FLAGS.find((candidate) => candidate.program.test(name));
  if (!program) return false;
  state.program = program;
  state.armed = program.after === undefined;
  state.htpasswd = undefined;
  return true;
}

/** The word masked when it is (or ends in) the password of the program named before; else undefined. */
function passwordFlag(word: string, state: RedactState): string | undefined {
  if (state.htpasswd) return htpasswdWord(word, state.htpasswd, state);
  const program = state.program;
  if (!program) return undefined;
  const bare = word.replace(/^['"]|['"]$/g, '');
  if (!state.armed) {
    if (bare === program.after) state.armed = true;
    return undefined;
  }
  if (program.flags?.includes(bare)) {
    state.next = 'secret';
    return word;
  }
  const glued = GLUED_FLAG.exec(word);
  if (glued && program.glued?.includes(glued[2]!)) return glued[1]! + glued[2]! + maskKeepingQuotes(glued[3]!);
  const passArg = program.passArg ? OPENSSL_PASS_ARG.exec(word) : null;
  return passArg ? passArg[1] + maskKeepingQuotes(passArg[2]!) : undefined;
}

/** `htpasswd -b [-c] file user password`, `htpasswd -nb user password`: the password is the last of them. */
function htpasswdWord(
  word: string,
  htpasswd: NonNullable<RedactState['htpasswd']>,
  state: RedactState,
): string | undefined {
  const bare = word.replace(/^['"]|['"]$/g, '');
  if (/^-[a-zA-Z]+$/.test(bare)) {
    if (bare.includes('b')) htpasswd.batch = true;
    if (bare.includes('n')) htpasswd.noFile = true;
    if (HTPASSWD_VALUE_FLAG.test(bare)) state.next = 'value';
    return word;
  }
  htpasswd.words += 1;
  if (!htpasswd.batch || htpasswd.words !== (htpasswd.noFile ? 2 : 3)) return undefined;
  state.htpasswd = undefined;
  return maskKeepingQuotes(word);
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
