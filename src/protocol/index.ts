/** The Channel Access protocol core (sans-I/O): constants, framing, DBR codecs, conversions, messages. */
export * from './constants.js';
export * from './header.js';
export * from './values.js';
export * from './dbr.js';
export * from './convert.js';
export * from './messages.js';
