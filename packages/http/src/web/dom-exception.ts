const LEGACY_CODES: Record<string, number> = {
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
};

/** Web IDL's DOMException: an Error with a name (AbortError, TimeoutError, ...) and its legacy code. */
export class DOMException extends Error {
  readonly code: number;

  constructor(message = '', name = 'Error') {
    super(message);
    Object.defineProperty(this, 'name', { value: String(name), configurable: true, writable: true });
    this.code = LEGACY_CODES[String(name)] ?? 0;
  }

  get [Symbol.toStringTag](): string {
    return 'DOMException';
  }
}
