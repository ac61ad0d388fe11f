/**
 * A private rsyslogd for one test: TCP (or TLS) and UDP on one free loopback port (and RELP, with
 * imrelp, on another when asked), every received message written as one JSON line with the fields
 * rsyslog parsed. The test starts, stops and
 * restarts it (the fault tests stop it mid-stream); the shared test env's rsyslog is left alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { eventually } from './eventually';
import { freePort } from './free-port';

export interface Received {
  pri: number;
  time: string;
  host: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
  raw: string;
}

export interface RsyslogTls {
  ca: string;
  cert: string;
  key: string;
}

export class PrivateRsyslog {
  readonly file: string;
  port = 0;
  /** imrelp's port (with `relp`), TLS too when `tls` is given. */
  relpPort = 0;
  private child: ChildProcess | undefined;

  constructor(
    readonly dir: string,
    private readonly tls?: RsyslogTls,
    private readonly options: { relp?: boolean } = {},
  ) {
    mkdirSync(join(dir, 'work'), { recursive: true });
    this.file = join(dir, 'received.log');
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    if (this.options.relp && this.relpPort === 0) this.relpPort = await freePort();
    const d = this.dir;
    const tcpModule = this.tls
      ? `module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")`
      : `module(load="imtcp")`;
    const tlsGlobal = this.tls
      ? ` DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="${this.tls.ca}" DefaultNetstreamDriverCertFile="${this.tls.cert}" DefaultNetstreamDriverKeyFile="${this.tls.key}"`
      : '';
    writeFileSync(
      join(d, 'rsyslog.conf'),
      `global(workDirectory="${d}/work" maxMessageSize="256k"${tlsGlobal})
module(load="imudp")
${tcpModule}
template(name="received" type="string" string="{\\"pri\\":%pri%,\\"time\\":\\"%timereported:::date-rfc3339%\\",\\"host\\":\\"%hostname:::json%\\",\\"app\\":\\"%app-name:::json%\\",\\"procid\\":\\"%procid:::json%\\",\\"msgid\\":\\"%msgid:::json%\\",\\"sd\\":\\"%structured-data:::json%\\",\\"msg\\":\\"%msg:::json%\\",\\"raw\\":\\"%rawmsg:::json%\\"}\\n")
ruleset(name="remote") { action(type="omfile" file="${this.file}" template="received" flushOnTXEnd="on" asyncWriting="off") }
input(type="imudp" address="127.0.0.1" port="${this.port}" ruleset="remote")
input(type="imtcp" address="127.0.0.1" port="${this.port}" ruleset="remote")
${this.relpInput()}
`,
    );
    if (!existsSync(this.file)) writeFileSync(this.file, '');
    this.child = spawn('rsyslogd', ['-n', '-f', join(d, 'rsyslog.conf'), '-i', join(d, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    this.child.stderr!.on('data', (c) => (stderr += c));
    const child = this.child;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`rsyslogd exited ${child.exitCode}: ${stderr}`);
        await canConnect(this.port);
        if (this.relpPort) await canConnect(this.relpPort);
      },
      15_000,
      50,
    );
  }

  private relpInput(): string {
    if (!this.relpPort) return '';
    const tls = this.tls
      ? ` tls="on" tls.authMode="certvalid" tls.caCert="${this.tls.ca}" tls.myCert="${this.tls.cert}" tls.myPrivKey="${this.tls.key}"`
      : '';
    return `module(load="imrelp")\ninput(type="imrelp" address="127.0.0.1" port="${this.relpPort}" ruleset="remote"${tls})`;
  }

  /** Stops it (SIGTERM) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  received(): Received[] {
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Received);
  }
}

function canConnect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
