/** The DOM standard's Event and EventTarget, without a tree: enough for AbortSignal and libraries that listen. */
export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

export class Event {
  readonly type: string;
  readonly bubbles: boolean;
  readonly cancelable: boolean;
  readonly composed: boolean;
  readonly timeStamp: number;
  readonly isTrusted = false;
  /** @internal */
  _target: EventTarget | null = null;
  /** @internal */
  _canceled = false;
  /** @internal */
  _stopped = false;

  constructor(type: string, init: EventInit = {}) {
    if (type === undefined) throw new TypeError('Event: the type is required');
    this.type = String(type);
    this.bubbles = !!init.bubbles;
    this.cancelable = !!init.cancelable;
    this.composed = !!init.composed;
    this.timeStamp = Date.now();
  }

  get target(): EventTarget | null {
    return this._target;
  }

  get currentTarget(): EventTarget | null {
    return this._target;
  }

  get defaultPrevented(): boolean {
    return this._canceled;
  }

  preventDefault(): void {
    if (this.cancelable) this._canceled = true;
  }

  stopPropagation(): void {}

  stopImmediatePropagation(): void {
    this._stopped = true;
  }
}

export type EventListener = ((event: Event) => void) | { handleEvent(event: Event): void };

export interface AddEventListenerOptions {
  once?: boolean;
  capture?: boolean;
  passive?: boolean;
  signal?: { aborted: boolean; addEventListener(type: 'abort', listener: () => void): void };
}

interface Registration {
  listener: EventListener;
  once: boolean;
  capture: boolean;
  removed: boolean;
}

export class EventTarget {
  /** @internal */
  _listeners: Map<string, Registration[]> | undefined;

  addEventListener(type: string, listener: EventListener | null, options?: boolean | AddEventListenerOptions): void {
    if (listener === null || listener === undefined) return;
    const capture = typeof options === 'boolean' ? options : !!options?.capture;
    const once = typeof options === 'object' && !!options.once;
    const signal = typeof options === 'object' ? options.signal : undefined;
    if (signal?.aborted) return;
    this._listeners ??= new Map();
    let list = this._listeners.get(type);
    if (!list) this._listeners.set(type, (list = []));
    if (list.some((r) => r.listener === listener && r.capture === capture)) return;
    list.push({ listener, once, capture, removed: false });
    signal?.addEventListener('abort', () => this.removeEventListener(type, listener, { capture }));
  }

  removeEventListener(type: string, listener: EventListener | null, options?: boolean | { capture?: boolean }): void {
    const capture = typeof options === 'boolean' ? options : !!options?.capture;
    const list = this._listeners?.get(type);
    if (!list) return;
    const at = list.findIndex((r) => r.listener === listener && r.capture === capture);
    if (at >= 0) {
      list[at]!.removed = true;
      list.splice(at, 1);
    }
  }

  dispatchEvent(event: Event): boolean {
    event._target = this;
    const handler = (this as unknown as Record<string, unknown>)[`on${event.type}`];
    const list = this._listeners?.get(event.type)?.slice() ?? [];
    if (typeof handler === 'function') handler.call(this, event);
    for (const registration of list) {
      if (registration.removed || event._stopped) continue;
      if (registration.once) this.removeEventListener(event.type, registration.listener, { capture: registration.capture });
      const { listener } = registration;
      try {
        if (typeof listener === 'function') listener.call(this, event);
        else listener.handleEvent(event);
      } catch (error) {
        // A listener's exception does not stop the others (the DOM reports it); here it surfaces later.
        Promise.reject(error);
      }
    }
    return !event._canceled;
  }
}
