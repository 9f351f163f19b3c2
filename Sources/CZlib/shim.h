#ifndef DEALERSYNC_CZLIB_SHIM_H
#define DEALERSYNC_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2 and inflateInit2 are macros (they pass ZLIB_VERSION and the struct size),
// which Swift cannot call. These typed wrappers are the only way SyncCore reaches them.

/// Starts a gzip (not raw, not zlib) deflate stream at the given level.
static inline int dealersync_deflate_init_gzip(z_streamp stream, int level) {
    // windowBits 15 + 16 selects the gzip wrapper; memLevel 8 is zlib's default.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// Starts an inflate stream that accepts only the gzip wrapper.
static inline int dealersync_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
