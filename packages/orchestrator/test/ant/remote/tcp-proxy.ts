import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback between ants and a queen, standing in for the network (no namespaces
 * needed): `cut()` drops every connection like a broken link, `pause()` silently stops moving bytes
 * like a black-holed route, `resume()` heals it.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private paused = false;
  /** Bytes sent upstream (client to target) since the proxy started. */
  sent = 0;
  private cutAt?: number;
  /** After the cut at `cutAt`, take no new connections: the queen behind is gone for good. */
  private closeAtCut = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.paused) {
        // A black hole takes the connection and never answers.
        client.on('error', () => undefined);
        this.pairs.add([client, client]);
        return;
      }
      const upstream = connect(this.target);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on('data', (chunk: Buffer) => {
        this.sent += chunk.length;
        if (this.cutAt !== undefined && this.sent >= this.cutAt) {
          this.cutAt = undefined;
          if (this.closeAtCut) this.server.close();
          this.cut();
        }
      });
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${this.port}`;
  }

  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Drops every connection once `bytes` more have gone upstream (an upload cut mid-way); once. */
  cutAfter(bytes: number): void {
    this.cutAt = this.sent + bytes;
  }

  /** As `cutAfter`, and from then on connections are refused (a queen that died mid-upload). */
  closeAfter(bytes: number): void {
    this.cutAfter(bytes);
    this.closeAtCut = true;
  }

  pause(): void {
    this.paused = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
      a.unpipe();
      b.unpipe();
    }
  }

  /** Heals the link: black-holed connections stay dead (as after a real outage), new ones go through. */
  resume(): void {
    this.paused = false;
    this.cut();
  }

  async close(): Promise<void> {
    this.cut();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
