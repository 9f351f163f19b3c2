#ifndef DEALERSYNC_CCURL_SHIM_H
#define DEALERSYNC_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// Each wrapper below fixes the argument type that libcurl documents for the option,
// so a mismatch is a compile error instead of undefined behaviour.

typedef size_t (*dealersync_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode dealersync_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dealersync_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// libcurl copies string options (since 7.17), so the Swift string may be freed afterwards.
static inline CURLcode dealersync_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dealersync_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dealersync_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dealersync_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                            dealersync_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

/// Called about once a second even while no bytes flow; a non-zero return aborts the
/// transfer with CURLE_ABORTED_BY_CALLBACK (how a cancelled Swift task stops a transfer).
static inline CURLcode dealersync_curl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

static inline CURLcode dealersync_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode dealersync_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode dealersync_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
