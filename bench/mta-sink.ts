import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const END_OF_DATA = '\r\n.\r\n';

/**
 * The worker bench's stand-in for the mail provider: a minimal SMTP receiver on a loopback port that accepts every
 * message and reports each recipient when the message's 250 goes out. It runs on the same two cores as the workers, so
 * it does what an MTA must and no more: it answers a client's pipelined commands in one write, as MTAs do (Postfix
 * flushes its replies once the client's input is drained), where smtp-server (the tests' sink, test/utils) writes
 * each reply on its own and parses the message as a stream. Not for tests: no scripting, no TLS, no AUTH.
 */
export class MtaSink {
  onReceived?: (recipient: string, receivedAt: number) => void;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<MtaSink> {
    const server = createServer();
    const sink = new MtaSink(server);
    server.on('connection', (socket) => sink.serve(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    let input = '';
    // In DATA: the last bytes of the message so far (a terminator may be split across reads); null between messages.
    let tail: string | null = null;
    let recipients: string[] = [];
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.write('220 bench-sink ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      let replies = '';
      input += chunk.toString('latin1');
      while (input.length > 0) {
        if (tail !== null) {
          // The message ends at CRLF.CRLF (the CRLF before the dot belongs to the message).
          const end = (tail + input).indexOf(END_OF_DATA);
          if (end < 0) {
            tail = (tail + input).slice(-(END_OF_DATA.length - 1));
            input = '';
            break;
          }
          input = input.slice(end + END_OF_DATA.length - tail.length);
          tail = null;
          const receivedAt = Date.now();
          for (const recipient of recipients) this.onReceived?.(recipient, receivedAt);
          recipients = [];
          replies += '250 2.0.0 Ok: queued\r\n';
          continue;
        }
        const lineEnd = input.indexOf('\r\n');
        if (lineEnd < 0) break;
        const line = input.slice(0, lineEnd);
        input = input.slice(lineEnd + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') replies += '250-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n';
        else if (verb === 'HELO' || verb === 'NOOP') replies += '250 Ok\r\n';
        else if (verb === 'MAIL' || verb === 'RSET') {
          recipients = [];
          replies += '250 2.1.0 Ok\r\n';
        } else if (verb === 'RCPT') {
          recipients.push((/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase());
          replies += '250 2.1.5 Ok\r\n';
        } else if (verb === 'DATA') {
          if (recipients.length === 0) replies += '503 5.5.1 Error: need RCPT command\r\n';
          else {
            // Starts as the line break before the message, so an empty message ending in ".\r\n" is seen too.
            tail = '\r\n';
            replies += '354 End data with <CR><LF>.<CR><LF>\r\n';
          }
        } else if (verb === 'QUIT') {
          socket.end(`${replies}221 2.0.0 Bye\r\n`);
          return;
        } else replies += '502 5.5.2 Error: command not recognized\r\n';
      }
      if (replies) socket.write(replies);
    });
  }
}
