import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** Paths of the same files; serverP12: the server key and certificate in a PKCS12 keystore (password PKCS12_PASSWORD). */
  readonly paths: { readonly ca: string; readonly serverPem: string; readonly serverKey: string; readonly serverCert: string; readonly serverP12: string };
}

export const PKCS12_PASSWORD = 'keystore-secret';

/** A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate (CN=client,O=raftka,C=US), made with openssl. */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'raftka-certs-'));
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=raftka-test-ca');
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  ssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/C=US/O=raftka/CN=client');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
  const read = (f: string): Promise<string> => readFile(join(dir, f), 'utf8');
  const [caCert, serverKey, serverCert, clientKey, clientCert] = await Promise.all(['ca.crt', 'server.key', 'server.crt', 'client.key', 'client.crt'].map(read)) as [string, string, string, string, string];
  // Kafka's PEM keystore file: private key and certificate chain in one file.
  await writeFile(join(dir, 'server.pem'), serverKey + serverCert);
  ssl('pkcs12', '-export', '-in', 'server.crt', '-inkey', 'server.key', '-out', 'server.p12', '-passout', `pass:${PKCS12_PASSWORD}`);
  return {
    dir, caCert, serverKey, serverCert, clientKey, clientCert,
    paths: {
      ca: join(dir, 'ca.crt'), serverPem: join(dir, 'server.pem'), serverKey: join(dir, 'server.key'), serverCert: join(dir, 'server.crt'),
      serverP12: join(dir, 'server.p12'),
    },
  };
}
