/**
 * A WebSocket whose URL gets its credentials asynchronously.
 *
 * JupyterLab constructs sockets synchronously (`new settings.WebSocket(url, protocols)`),
 * but a fresh token may need a network round trip. This stand-in is returned at once, opens
 * the real socket when the URL is ready, and forwards the `on…` handlers and properties that
 * JupyterLab's kernel, terminal and event connections use.
 */

type Handler<E extends Event> = ((event: E) => unknown) | null;

export type SocketAuthorizer = (url: string) => Promise<string>;

export function deferredWebSocketClass(
  authorize: SocketAuthorizer,
  Native: typeof WebSocket = WebSocket
): typeof WebSocket {
  class DeferredWebSocket extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSING = 2;
    readonly CLOSED = 3;

    onopen: Handler<Event> = null;
    onmessage: Handler<MessageEvent> = null;
    onclose: Handler<CloseEvent> = null;
    onerror: Handler<Event> = null;

    constructor(
      readonly url: string,
      protocols?: string | string[]
    ) {
      super();
      authorize(url).then(
        authorized => this._open(authorized, protocols),
        () => this._fail()
      );
    }

    get binaryType(): BinaryType {
      return this._binaryType;
    }

    set binaryType(value: BinaryType) {
      this._binaryType = value;
      if (this._socket) {
        this._socket.binaryType = value;
      }
    }

    get readyState(): number {
      return this._socket?.readyState ?? (this._closed ? Native.CLOSED : Native.CONNECTING);
    }

    get protocol(): string {
      return this._socket?.protocol ?? '';
    }

    get extensions(): string {
      return this._socket?.extensions ?? '';
    }

    get bufferedAmount(): number {
      return this._socket?.bufferedAmount ?? 0;
    }

    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (!this._socket) {
        throw new DOMException('The WebSocket is still connecting.', 'InvalidStateError');
      }
      this._socket.send(data);
    }

    close(code?: number, reason?: string): void {
      this._closed = true;
      if (this._socket) {
        this._socket.close(code, reason);
      }
    }

    private _open(url: string, protocols?: string | string[]): void {
      if (this._closed) {
        return;
      }
      const socket = new Native(url, protocols);
      socket.binaryType = this._binaryType;
      socket.onopen = event => this._emit('open', event, this.onopen);
      socket.onmessage = event => this._emit('message', event, this.onmessage);
      socket.onerror = event => this._emit('error', event, this.onerror);
      socket.onclose = event => this._emit('close', event, this.onclose);
      this._socket = socket;
    }

    /** No credentials (signed out): fail like a refused connection, without any network. */
    private _fail(): void {
      this._closed = true;
      this._emit('error', new Event('error'), this.onerror);
      const close = new CloseEvent('close', { code: 1006, reason: 'signed out', wasClean: false });
      this._emit('close', close, this.onclose);
    }

    private _emit<E extends Event>(type: string, event: E, handler: Handler<E>): void {
      handler?.call(this, event);
      this.dispatchEvent(new (event.constructor as typeof Event)(type, event));
    }

    private _socket: WebSocket | null = null;
    private _binaryType: BinaryType = 'blob';
    private _closed = false;
  }
  return DeferredWebSocket as unknown as typeof WebSocket;
}
