import { AntConfigError, antSettingsFromEnv, antSettingsFromFile, resolveAntSettings, staticAntTokens } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';

describe('remote ant settings: file, MYRMEX_ANT_* variables, flags', () => {
  it('flags win over variables, variables over the file', () => {
    const file = antSettingsFromFile(
      'servers: [https://a:7070, https://b:7070]\ntoken_file: /etc/t\nid: from-file\ncapacity: 2\nlabels: { zone: eu-1, gpu: true }\nresources: { cpu: 8 }\n',
      'ant.yaml',
    );
    const env = antSettingsFromEnv({ MYRMEX_ANT_ID: 'from-env', MYRMEX_ANT_TAGS: 'linux, docker', MYRMEX_ANT_CAPACITY: '6' });
    const settings = resolveAntSettings(file, env, { capacity: 9 });
    expect(settings).toMatchObject({
      servers: ['https://a:7070', 'https://b:7070'],
      tokenFile: '/etc/t',
      id: 'from-env',
      capacity: 9,
      tags: ['linux', 'docker'],
      labels: { zone: 'eu-1', gpu: 'true' },
      resources: { cpu: '8' },
      drainGraceMs: 30_000,
    });
  });

  it('MYRMEX_ANT_CA names the CA file (MYRMEX_ANT_CA_FILE too)', () => {
    expect(antSettingsFromEnv({ MYRMEX_ANT_CA: '/etc/myrmex/ca.pem' })).toEqual({ caFile: '/etc/myrmex/ca.pem' });
    expect(antSettingsFromEnv({ MYRMEX_ANT_CA_FILE: '/etc/ca.pem' })).toEqual({ caFile: '/etc/ca.pem' });
    expect(antSettingsFromFile('ca_file: /etc/ca.pem\n', 'ant.yaml')).toEqual({ caFile: '/etc/ca.pem' });
  });

  it('refuses bad input naming the file and field, the variable, or the setting', () => {
    expect(() => antSettingsFromFile('capacity: lots\n', 'ant.yaml')).toThrow(/^ant\.yaml: capacity: /);
    expect(() => antSettingsFromFile('servers: [x]\nsurprise: 1\n', 'ant.yaml')).toThrow(/ant\.yaml: .*surprise/);
    expect(() => antSettingsFromFile('a: [', 'bad.yaml')).toThrow(/^bad\.yaml: not YAML or JSON/);
    expect(() => antSettingsFromEnv({ MYRMEX_ANT_CAPACITY: 'four' })).toThrow(/MYRMEX_ANT_CAPACITY must be a whole number/);
    expect(() => antSettingsFromEnv({ MYRMEX_ANT_LABELS: 'zone' })).toThrow(/MYRMEX_ANT_LABELS: 'zone' is not key=value/);
    expect(() => resolveAntSettings({ token: 't' })).toThrow(/no queen to connect to/);
    expect(() => resolveAntSettings({ servers: ['ftp://x'], token: 't' })).toThrow(/must be an http\(s\) or ws\(s\) URL/);
    expect(() => resolveAntSettings({ servers: ['http://q'] })).toThrow(/no token/);
    expect(() => resolveAntSettings({ servers: ['http://q'], token: 't', id: 'bad id' })).toThrow(AntConfigError);
  });
});

describe('static ant tokens', () => {
  it('a bare token allows any id, `id=token` binds one, short tokens are refused', async () => {
    const auth = staticAntTokens('aaaaaaaaaaaaaaaa1,build-7=bbbbbbbbbbbbbbbb2');
    expect(await auth('aaaaaaaaaaaaaaaa1')).toEqual({ subject: 'static-token-1' });
    expect(await auth('bbbbbbbbbbbbbbbb2')).toEqual({ subject: 'static-token:build-7', antId: 'build-7' });
    expect(await auth('bbbbbbbbbbbbbbbb3')).toBeUndefined();
    expect(() => staticAntTokens('short')).toThrow(/at least 16 characters/);
  });
});
