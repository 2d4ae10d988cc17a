import type { Server } from 'node:http';

/**
 * How the API's server lets go of its connections when it closes. Node's `server.close()` destroys
 * only the connections idle at that instant; one still answering a request stays open as keep-alive
 * once its response finishes, until Fastify's keep-alive timeout (72 s). A download whose client has
 * every byte its Content-Length promised is such a response: the client moves on while the server
 * still waits for the file's EOF read to end it. So after closing begins, each response that finishes
 * closes its now idle connection at once, and whatever is still being written when the grace is over
 * is cut.
 */
export class ConnectionCloser {
  #closing = false;

  constructor(
    private readonly server: Server,
    private readonly graceMs: number,
  ) {
    server.on('request', (_request, response) => {
      // 'close' comes after the response has let go of its socket, which is then idle.
      response.once('close', () => {
        if (this.#closing) this.server.closeIdleConnections();
      });
    });
  }

  /** Called as closing begins: idle connections are closed now, busy ones as they finish or at the grace. */
  begin(): void {
    this.#closing = true;
    setTimeout(() => this.server.closeAllConnections(), this.graceMs).unref();
  }
}
