/* config_aspire.c - the Aspire dashboard's configuration names, so that
 * loupe can stand in for its container (mcr.microsoft.com/dotnet/
 * aspire-dashboard) with the same environment.
 *
 * DESIGN
 * A table maps each Aspire name with a matching meaning to the loupe flag
 * it sets (docs/aspire.md lists them, and the names without a loupe
 * meaning). The environment is read as .NET reads it: names compared
 * without regard to case ("Dashboard__Otlp__PrimaryApiKey" is
 * DASHBOARD__OTLP__PRIMARYAPIKEY), "__" standing for ':'. Values go through
 * config_apply(), the path of the command line, so they are checked the
 * same way and an error names the Aspire variable. The rules that tie
 * names together are Aspire's: the OTLP keys count only with
 * Dashboard:Otlp:AuthMode=ApiKey, and ..._UNSECURED_ALLOW_ANONYMOUS=true
 * makes both the frontend and OTLP unsecured. Listen URLs follow ASP.NET's
 * binding rules. Everything here runs before the LOUPE_* variables and the
 * flags, which win.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "config_internal.h"

extern char **environ;

/* Aspire counts traces, loupe spans: --max-spans is MaxTraceCount times
 * this (Aspire's default of 10,000 traces is loupe's 1,000,000 spans). */
#define ASPIRE_SPANS_PER_TRACE 100

/* The names read, each as the first that is set of up to two spellings
 * (the current one, then Aspire's legacy DOTNET_ one). */
enum {
    AS_FRONTEND_URLS,  /* ASPNETCORE_URLS */
    AS_DASHBOARD_URL,  /* ASPIRE_DASHBOARD_URL */
    AS_OTLP_GRPC_URL,
    AS_OTLP_HTTP_URL,
    AS_ALLOW_ANONYMOUS,
    AS_FRONTEND_AUTHMODE,
    AS_BROWSER_TOKEN,
    AS_OTLP_AUTHMODE,
    AS_PRIMARY_KEY,
    AS_SECONDARY_KEY,
    AS_CORS_ORIGINS,
    AS_MAX_LOGS,
    AS_MAX_TRACES,
    AS_MAX_ATTRS,
    AS_MAX_ATTR_LEN,
    AS_MAX_EVENTS,
    AS_COUNT
};

static const char *const aspire_names[AS_COUNT][2] = {
    [AS_FRONTEND_URLS] = {"ASPNETCORE_URLS", NULL},
    [AS_DASHBOARD_URL] = {"ASPIRE_DASHBOARD_URL", NULL},
    [AS_OTLP_GRPC_URL] = {"ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"},
    [AS_OTLP_HTTP_URL] = {"ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL",
                          "DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"},
    [AS_ALLOW_ANONYMOUS] = {"ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS",
                            "DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"},
    [AS_FRONTEND_AUTHMODE] = {"DASHBOARD__FRONTEND__AUTHMODE", NULL},
    [AS_BROWSER_TOKEN] = {"DASHBOARD__FRONTEND__BROWSERTOKEN", NULL},
    [AS_OTLP_AUTHMODE] = {"DASHBOARD__OTLP__AUTHMODE", NULL},
    [AS_PRIMARY_KEY] = {"DASHBOARD__OTLP__PRIMARYAPIKEY", NULL},
    [AS_SECONDARY_KEY] = {"DASHBOARD__OTLP__SECONDARYAPIKEY", NULL},
    [AS_CORS_ORIGINS] = {"DASHBOARD__OTLP__CORS__ALLOWEDORIGINS", NULL},
    [AS_MAX_LOGS] = {"DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT", NULL},
    [AS_MAX_TRACES] = {"DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", NULL},
    [AS_MAX_ATTRS] = {"DASHBOARD__TELEMETRYLIMITS__MAXATTRIBUTECOUNT", NULL},
    [AS_MAX_ATTR_LEN] = {"DASHBOARD__TELEMETRYLIMITS__MAXATTRIBUTELENGTH", NULL},
    [AS_MAX_EVENTS] = {"DASHBOARD__TELEMETRYLIMITS__MAXSPANEVENTCOUNT", NULL},
};

/* A set Aspire variable: its name as the table spells it, its value
 * (borrowed from environ). */
typedef struct aspire_var {
    const char *name, *value;
} aspire_var;

/* The value of the environment variable named `name` without regard to
 * case, or NULL (also when it is empty, as for the LOUPE_* names). */
static const char *aspire_getenv(const char *name) {
    size_t n = strlen(name);
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncasecmp(*e, name, n) == 0 && (*e)[n] == '=')
            return (*e)[n + 1] != '\0' ? *e + n + 1 : NULL;
    return NULL;
}

/* 1 when name (up to '=') is one of the table's spellings. */
static int aspire_known(const char *entry, size_t n) {
    for (int i = 0; i < AS_COUNT; i++)
        for (int k = 0; k < 2; k++)
            if (aspire_names[i][k] != NULL && strlen(aspire_names[i][k]) == n &&
                strncasecmp(entry, aspire_names[i][k], n) == 0)
                return 1;
    return 0;
}

/* 1 for a name only the Aspire dashboard reads: Dashboard:* settings and
 * the dashboard's own ASPIRE_DASHBOARD_* / DOTNET_DASHBOARD_* variables
 * (and its resource service). */
static int aspire_family(const char *entry, size_t n) {
    static const char *const prefixes[] = {"DASHBOARD__", "ASPIRE_DASHBOARD_", "DOTNET_DASHBOARD_",
                                           "ASPIRE_RESOURCE_SERVICE_", "DOTNET_RESOURCE_SERVICE_",
                                           "AUTHENTICATION__SCHEMES__OPENIDCONNECT__"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t p = strlen(prefixes[i]);
        if (n > p && strncasecmp(entry, prefixes[i], p) == 0)
            return 1;
    }
    return 0;
}

/* Notes every Aspire name in the environment that loupe gives no meaning
 * (the first CONFIG_ASPIRE_IGNORED), for a warning at start. */
static void aspire_note_ignored(config *cfg) {
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        size_t n = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
        if (!aspire_family(*e, n) || aspire_known(*e, n) || eq == NULL || eq[1] == '\0')
            continue;
        if (cfg->n_aspire_ignored == CONFIG_ASPIRE_IGNORED)
            return;
        snprintf(cfg->aspire_ignored[cfg->n_aspire_ignored++], CONFIG_ASPIRE_NAME, "%.*s",
                 (int)(n < CONFIG_ASPIRE_NAME ? n : CONFIG_ASPIRE_NAME - 1), *e);
    }
}

/* A .NET bool ("true"/"false", any case). Returns 0 or 1, or -1. */
static int aspire_bool(const char *v) {
    if (strcasecmp(v, "true") == 0)
        return 1;
    if (strcasecmp(v, "false") == 0)
        return 0;
    return -1;
}

/* Turns an ASP.NET listen URL ("http://+:18889", "http://localhost:4317",
 * "http://[::1]:80"; the first of a ';' list) into loupe's HOST:PORT in
 * out. ASP.NET's binding rules: "*", "+" and host names other than
 * localhost listen on every interface; an IP address on itself; no port is
 * 80. port_only: keep loupe's default host (every interface) and take the
 * port. Returns 0, or -1 with a reason in why. */
static int aspire_url_addr(const char *url, int port_only, char *out, size_t outlen, char *why,
                           size_t whylen) {
    size_t len = strcspn(url, ";");
    while (len > 0 && isspace((unsigned char)url[len - 1]))
        len--;
    while (len > 0 && isspace((unsigned char)*url)) {
        url++;
        len--;
    }
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') {
            sep = url + i;
            break;
        }
    if (sep == NULL) {
        snprintf(why, whylen, "\"%.*s\" is not a URL (for example http://0.0.0.0:18889)",
                 (int)len, url);
        return -1;
    }
    size_t slen = (size_t)(sep - url);
    if (slen == 5 && strncasecmp(url, "https", 5) == 0) {
        snprintf(why, whylen,
                 "\"%.*s\": loupe serves plain HTTP (h2c for gRPC); use an http:// URL and put a "
                 "TLS proxy in front",
                 (int)len, url);
        return -1;
    }
    if (slen != 4 || strncasecmp(url, "http", 4) != 0) {
        snprintf(why, whylen, "\"%.*s\": the scheme must be http", (int)len, url);
        return -1;
    }
    const char *h = sep + 3, *end = url + len;
    const char *auth_end = h;
    while (auth_end < end && *auth_end != '/')
        auth_end++;
    const char *colon = NULL; /* the port's colon */
    const char *host_end = auth_end;
    if (h < auth_end && *h == '[') {
        const char *rb = memchr(h, ']', (size_t)(auth_end - h));
        if (rb == NULL) {
            snprintf(why, whylen, "\"%.*s\": an unclosed [", (int)len, url);
            return -1;
        }
        host_end = rb + 1;
        if (host_end < auth_end && *host_end == ':')
            colon = host_end;
        else if (host_end != auth_end) {
            snprintf(why, whylen, "\"%.*s\": a bad port", (int)len, url);
            return -1;
        }
    } else {
        colon = memchr(h, ':', (size_t)(auth_end - h));
        if (colon != NULL)
            host_end = colon;
    }
    unsigned long port = 80;
    if (colon != NULL) {
        char *pend;
        char digits[8];
        size_t dn = (size_t)(auth_end - colon - 1);
        if (dn == 0 || dn >= sizeof(digits) || !isdigit((unsigned char)colon[1])) {
            snprintf(why, whylen, "\"%.*s\": a bad port", (int)len, url);
            return -1;
        }
        memcpy(digits, colon + 1, dn);
        digits[dn] = '\0';
        port = strtoul(digits, &pend, 10);
        if (*pend != '\0' || port > 65535) {
            snprintf(why, whylen, "\"%.*s\": a bad port", (int)len, url);
            return -1;
        }
    }
    char host[64];
    size_t hn = (size_t)(host_end - h);
    if (hn == 0 || hn >= sizeof(host)) {
        snprintf(why, whylen, "\"%.*s\": a bad host", (int)len, url);
        return -1;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    const char *bind = "0.0.0.0"; /* "*", "+", other names */
    unsigned char tmp[16];
    if (!port_only) {
        if (strcasecmp(host, "localhost") == 0)
            bind = "localhost";
        else if (inet_pton(AF_INET, host, tmp) == 1)
            bind = host;
        else if (host[0] == '[' && hn > 2) {
            char v6[64];
            snprintf(v6, sizeof(v6), "%.*s", (int)(hn - 2), host + 1);
            if (inet_pton(AF_INET6, v6, tmp) == 1)
                bind = host;
        }
    }
    snprintf(out, outlen, "%s:%lu", bind, port);
    return 0;
}

/* The value of name as a loupe count: Aspire allows any int, loupe a
 * positive one; times `mult` (saturating at never). */
static int aspire_count(config *cfg, const char *flag, const aspire_var *v, uint64_t mult,
                        char *buf, size_t buflen, char *err, size_t errlen) {
    const char *value = v->value;
    if (mult > 1) {
        char *end;
        unsigned long long n = strtoull(value, &end, 10);
        if (!isdigit((unsigned char)value[0]) || *end != '\0' || n == 0 ||
            n > UINT64_MAX / mult) {
            snprintf(err, errlen, "%s: \"%s\" is not a positive whole number", v->name, value);
            return -1;
        }
        snprintf(buf, buflen, "%llu", n * (unsigned long long)mult);
        value = buf;
    }
    return config_apply(cfg, flag, value, v->name, err, errlen);
}

/* The listen addresses: ASPNETCORE_URLS (else ASPIRE_DASHBOARD_URL's port)
 * for the UI, the two OTLP endpoint URLs for the receivers. */
static int aspire_addrs(config *cfg, const aspire_var *vars, char *err, size_t errlen) {
    static const struct {
        int var, port_only;
        const char *flag;
    } map[] = {{AS_FRONTEND_URLS, 0, "ui-addr"},
               {AS_DASHBOARD_URL, 1, "ui-addr"},
               {AS_OTLP_GRPC_URL, 0, "otlp-grpc-addr"},
               {AS_OTLP_HTTP_URL, 0, "otlp-http-addr"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        const aspire_var *v = &vars[map[i].var];
        if (v->value == NULL)
            continue;
        if (map[i].var == AS_DASHBOARD_URL && vars[AS_FRONTEND_URLS].value != NULL)
            continue; /* ASPNETCORE_URLS says where to listen */
        char *out = cfg->aspire_addr[i];
        char why[256];
        if (aspire_url_addr(v->value, map[i].port_only, out, CONFIG_ASPIRE_ADDR, why,
                            sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s", v->name, why);
            return -1;
        }
        if (config_apply(cfg, map[i].flag, out, v->name, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Dashboard:Frontend:AuthMode, the browser token, Dashboard:Otlp:AuthMode
 * with its keys, and the shortcut that makes both unsecured. */
static int aspire_auth(config *cfg, const aspire_var *vars, char *err, size_t errlen) {
    int anonymous = 0;
    const aspire_var *anon = &vars[AS_ALLOW_ANONYMOUS];
    if (anon->value != NULL && (anonymous = aspire_bool(anon->value)) < 0) {
        snprintf(err, errlen, "%s: \"%s\" is not true or false", anon->name, anon->value);
        return -1;
    }
    const aspire_var *fm = &vars[AS_FRONTEND_AUTHMODE], *om = &vars[AS_OTLP_AUTHMODE];
    const char *ui_auth = NULL;
    if (anonymous)
        ui_auth = "none";
    else if (fm->value != NULL && strcasecmp(fm->value, "Unsecured") == 0)
        ui_auth = "none";
    else if (fm->value != NULL && strcasecmp(fm->value, "BrowserToken") == 0)
        ui_auth = "token";
    else if (fm->value != NULL) {
        snprintf(err, errlen, "%s: \"%s\" is not supported by loupe (BrowserToken or Unsecured)",
                 fm->name, fm->value);
        return -1;
    }
    if (ui_auth != NULL && config_apply(cfg, "ui-auth", ui_auth, anonymous ? anon->name : fm->name,
                                        err, errlen) != 0)
        return -1;
    const aspire_var *tok = &vars[AS_BROWSER_TOKEN];
    if (tok->value != NULL && config_apply(cfg, "ui-token", tok->value, tok->name, err, errlen) != 0)
        return -1;
    int api_key = 0; /* Aspire's default OTLP mode is Unsecured */
    if (om->value != NULL && strcasecmp(om->value, "ApiKey") == 0)
        api_key = 1;
    else if (om->value != NULL && strcasecmp(om->value, "Unsecured") != 0) {
        snprintf(err, errlen, "%s: \"%s\" is not supported by loupe (ApiKey or Unsecured)",
                 om->name, om->value);
        return -1;
    }
    if (!api_key || anonymous)
        return 0; /* the keys are not asked for */
    const aspire_var *k1 = &vars[AS_PRIMARY_KEY], *k2 = &vars[AS_SECONDARY_KEY];
    if (k1->value == NULL) {
        snprintf(err, errlen, "%s=ApiKey needs %s", om->name, k1->name);
        return -1;
    }
    if (config_apply(cfg, "otlp-api-key", k1->value, k1->name, err, errlen) != 0)
        return -1;
    if (k2->value != NULL &&
        config_apply(cfg, "otlp-api-key-secondary", k2->value, k2->name, err, errlen) != 0)
        return -1;
    return 0;
}

/* CORS and the telemetry limits. */
static int aspire_limits(config *cfg, const aspire_var *vars, char *err, size_t errlen) {
    static const struct {
        int var;
        const char *flag;
        uint64_t mult;
    } map[] = {{AS_MAX_LOGS, "max-logs", 1},
               {AS_MAX_TRACES, "max-spans", ASPIRE_SPANS_PER_TRACE},
               {AS_MAX_ATTRS, "max-attributes", 1},
               {AS_MAX_ATTR_LEN, "max-attribute-value-length", 1},
               {AS_MAX_EVENTS, "max-span-events", 1}};
    const aspire_var *cors = &vars[AS_CORS_ORIGINS];
    if (cors->value != NULL &&
        config_apply(cfg, "cors-origins", cors->value, cors->name, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        const aspire_var *v = &vars[map[i].var];
        if (v->value == NULL)
            continue;
        char *buf = map[i].mult > 1 ? cfg->aspire_spans : NULL;
        if (aspire_count(cfg, map[i].flag, v, map[i].mult, buf, sizeof(cfg->aspire_spans), err,
                         errlen) != 0)
            return -1;
    }
    return 0;
}

int config_from_aspire(config *cfg, char *err, size_t errlen) {
    aspire_var vars[AS_COUNT];
    for (int i = 0; i < AS_COUNT; i++) {
        vars[i].name = aspire_names[i][0];
        vars[i].value = aspire_getenv(aspire_names[i][0]);
        if (vars[i].value == NULL && aspire_names[i][1] != NULL) {
            vars[i].name = aspire_names[i][1];
            vars[i].value = aspire_getenv(aspire_names[i][1]);
        }
        if (vars[i].value == NULL)
            vars[i].name = aspire_names[i][0];
    }
    aspire_note_ignored(cfg);
    if (aspire_addrs(cfg, vars, err, errlen) != 0 || aspire_auth(cfg, vars, err, errlen) != 0 ||
        aspire_limits(cfg, vars, err, errlen) != 0)
        return CONFIG_EINVAL;
    return CONFIG_OK;
}
