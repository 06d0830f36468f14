/* The compiled front of the gate's skippers (consentgate.tokens).
 *
 * A skipper is a regular expression whose main loop consumes, one token at a time,
 * what the gate may pass without a look from Python: text, comments, declarations and
 * tags it need not see. Each token is decided by the byte after its "<", and the loop
 * is possessive, so the match from any token boundary the loop passes ends where the
 * match from the start ends, with the same groups. This module walks the commonest
 * tokens in C and hands the pattern the rest from the last boundary it reached: the
 * pattern stays the one definition of what is skipped, and this walk only ever stops
 * early (at anything it does not know, it stops and lets the pattern decide).
 *
 * A Finder fronts the search patterns of the text states that a chunk's end can leave
 * the gate in (raw text, script data, a comment): it finds the first place where the
 * pattern can match with memchr, and has the pattern match there.
 *
 * A TagFinder stands for a search pattern of where the banner or the Consent Mode
 * default may go next (a start tag whose name is not in a set, or an end tag whose name
 * is): it looks each name up once, where the pattern's lookahead runs at every "<".
 *
 * Hostile input: every read is bounded by the end given to the scan; no recursion;
 * names longer than any configured name are never looked up.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

#define MAX_NAME 31   /* longer names are in no table */
#define MAX_NAMES 128 /* entries of one table */

/* What the pattern's loop does with a start tag of a name in the table: stop there, pass
 * it when its attributes cannot load (QUIET, WIDGET; lower-case names only), pass the
 * whole raw-text element (RAW), or something this walk leaves to the pattern (DEFER). */
enum { STOP = 1, QUIET = 2, WIDGET = 3, RAW = 4, DEFER = 5 };
/* Skippers: in HTML content (whose stops are a script, a quiet tag or any tag), at
 * every tag (stops at any tag), or in SVG/MathML content (every tag left to the pattern). */
enum { MODE_FOREIGN = 0, MODE_ANY = 1, MODE_HTML = 2 };
/* What token() returns besides an index: the pattern stops here, or decides here. */
#define AT_STOP (-1)
#define AT_DEFER (-2)
#define NGROUPS 10

typedef struct {
    unsigned char len;
    unsigned char kind;
    char name[MAX_NAME + 1];
    char attr[MAX_NAME + 1]; /* QUIET: the attribute that makes the tag load */
    unsigned char attr_len;
} Name;

typedef struct {
    Name names[MAX_NAMES];
    int count;
    int all; /* no table: every name stops */
} Table;

typedef struct {
    PyObject_HEAD
    PyObject *match;   /* the pattern's bound match method */
    PyObject *pattern;
    Table starts;
    Table ends;
    Table voids;       /* MODE_HTML: lower-case start tags it stops at as group 5 */
    int mode;
    int comments;      /* comments are consumed (else the scan stops at them) */
    PyObject *classes; /* tuple of bytes: a widget's classes */
} Scanner;

/* A skipper match built here, with the groups the gate reads (see tokens._skipper). */
typedef struct {
    PyObject_HEAD
    Py_ssize_t regs[NGROUPS][2];
    int lastindex;
} Stop;

typedef struct {
    PyObject_HEAD
    Scanner *scanner;
    PyObject *buf;
    Py_ssize_t pos, end;
    int done;
} Scan;

static PyTypeObject ScannerType;
static PyTypeObject ScanType;
static PyTypeObject StopType;
static PyObject *str_end;

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static inline int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* What ends a tag name. */
static inline int is_delim(unsigned char c)
{
    return is_space(c) || c == '/' || c == '>';
}

/* The table entry for name s[a:b] in any case, and whether it is written in lower case. */
static const Name *lookup(const Table *t, const unsigned char *s, Py_ssize_t a, Py_ssize_t b,
                          int *is_lower)
{
    Py_ssize_t n = b - a, i;
    int k;
    if (n > MAX_NAME)
        return NULL;
    for (k = 0; k < t->count; k++) {
        const Name *e = &t->names[k];
        if (e->len != n || (unsigned char)e->name[0] != lower(s[a]))
            continue;
        *is_lower = 1;
        for (i = 0; i < n; i++) {
            if ((unsigned char)e->name[i] != lower(s[a + i]))
                break;
            if (s[a + i] != (unsigned char)e->name[i])
                *is_lower = 0;
        }
        if (i == n)
            return e;
    }
    return NULL;
}

static int same_name(const unsigned char *s, Py_ssize_t a, Py_ssize_t b, const char *w,
                     Py_ssize_t n)
{
    Py_ssize_t i;
    if (b - a != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower(s[a + i]) != (unsigned char)w[i])
            return 0;
    return 1;
}

/* Whether the value s[a:b] holds one of the widget classes. */
static int has_class(PyObject *classes, const unsigned char *s, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(classes);
    for (i = 0; i < n; i++) {
        PyObject *c = PyTuple_GET_ITEM(classes, i);
        Py_ssize_t len = PyBytes_GET_SIZE(c), j;
        const char *w = PyBytes_AS_STRING(c);
        for (j = a; j + len <= b; j++)
            if (s[j] == (unsigned char)w[0] && memcmp(s + j, w, (size_t)len) == 0)
                return 1;
    }
    return 0;
}

/* The site's own mark of a category: a quiet tag carrying it is gated like any other. */
#define MARK "data-consent"
#define MARK_LEN 12

/* The attributes of a tag from p (after its name) through its ">", as the WHATWG
 * tokenizer reads them: the index after the ">", or -1 where the tag is cut off by the
 * end, or where an attribute of `e` would make it load (the pattern decides then). */
static Py_ssize_t attributes(const Scanner *sc, const Name *e, const unsigned char *s,
                             Py_ssize_t p, Py_ssize_t end)
{
    for (;;) {
        Py_ssize_t a, n, r;
        unsigned char c;
        if (p >= end)
            return -1;
        c = s[p];
        if (c == '>')
            return p + 1;
        if (is_space(c) || c == '/') {
            while (p < end && (is_space(s[p]) || s[p] == '/'))
                p++;
            continue;
        }
        a = p++; /* a name: its first byte may be "=" */
        while (p < end && !is_space(s[p]) && s[p] != '/' && s[p] != '>' && s[p] != '=')
            p++;
        n = p;
        if (e != NULL && e->kind == QUIET &&
            (same_name(s, a, n, e->attr, e->attr_len) || same_name(s, a, n, MARK, MARK_LEN)))
            return -1;
        r = p;
        while (r < end && is_space(s[r]))
            r++;
        if (r >= end || s[r] != '=')
            continue; /* a name without a value */
        r++;
        while (r < end && is_space(s[r]))
            r++;
        if (r >= end)
            return -1;
        c = s[r];
        if (c == '"' || c == '\'') {
            const unsigned char *q = memchr(s + r + 1, c, (size_t)(end - r - 1));
            if (q == NULL)
                return -1;
            if (e != NULL && e->kind == WIDGET && same_name(s, a, n, "class", 5) &&
                has_class(sc->classes, s, r + 1, q - s))
                return -1;
            p = q - s + 1;
        } else if (c == '>') {
            p = r;
        } else {
            p = r + 1;
            while (p < end && !is_space(s[p]) && s[p] != '>')
                p++;
            if (e != NULL && e->kind == WIDGET && same_name(s, a, n, "class", 5) &&
                has_class(sc->classes, s, r, p))
                return -1;
        }
    }
}

/* The first "</" + name s[a:b] (any case) + a delimiter from p: the index of its "<". */
static Py_ssize_t find_end_tag(const unsigned char *s, Py_ssize_t a, Py_ssize_t b, Py_ssize_t p,
                               Py_ssize_t end)
{
    Py_ssize_t n = b - a, i;
    while (p < end) {
        const unsigned char *lt = memchr(s + p, '<', (size_t)(end - p));
        if (lt == NULL)
            return -1;
        p = lt - s;
        if (p + 2 + n < end && s[p + 1] == '/' && is_delim(s[p + 2 + n])) {
            for (i = 0; i < n && lower(s[p + 2 + i]) == lower(s[a + i]); i++)
                ;
            if (i == n)
                return p;
        }
        p++;
    }
    return -1;
}

/* A whole raw-text element whose name is s[a:b], from its name's end: the index after
 * its end tag, or AT_STOP when it is cut off. */
static Py_ssize_t raw_element(const unsigned char *s, Py_ssize_t a, Py_ssize_t b,
                              Py_ssize_t end)
{
    Py_ssize_t p = attributes(NULL, NULL, s, b, end);
    if (p < 0)
        return AT_STOP;
    p = find_end_tag(s, a, b, p, end);
    if (p < 0)
        return AT_STOP;
    p = attributes(NULL, NULL, s, p + 2 + (b - a), end);
    return p < 0 ? AT_STOP : p;
}

/* A tag after its "<" (at p, a letter) or "</" (p after the "/"): the index after it
 * when the pattern consumes it unseen, else -1. */
static Py_ssize_t tag(const Scanner *sc, const Table *t, const unsigned char *s, Py_ssize_t p,
                      Py_ssize_t end)
{
    Py_ssize_t a = p;
    const Name *e;
    int is_lower = 0;
    if (t->all)
        return -1;
    while (p < end && !is_space(s[p]) && s[p] != '/' && s[p] != '>')
        p++;
    if (p >= end)
        return -1;
    e = lookup(t, s, a, p, &is_lower);
    if (e != NULL && e->kind == DEFER)
        return AT_DEFER;
    if (e != NULL && e->kind == RAW)
        return raw_element(s, a, p, end);
    if (e != NULL && (e->kind == STOP || !is_lower))
        return AT_STOP;
    return attributes(sc, e, s, p, end);
}

/* A comment after its "<!--" (at p): the index after its end, or -1 if cut off. */
static Py_ssize_t comment(const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    if (p < end && s[p] == '>')
        return p + 1;
    if (p + 1 < end && s[p] == '-' && s[p + 1] == '>')
        return p + 2;
    for (; p + 2 < end; p++) {
        const unsigned char *d = memchr(s + p, '-', (size_t)(end - p - 2));
        if (d == NULL)
            return -1;
        p = d - s;
        if (s[p + 1] != '-')
            continue;
        if (s[p + 2] == '>')
            return p + 3;
        if (s[p + 2] == '!' && p + 3 < end && s[p + 3] == '>')
            return p + 4;
    }
    return -1;
}

static Py_ssize_t after_gt(const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    const unsigned char *g = p < end ? memchr(s + p, '>', (size_t)(end - p)) : NULL;
    return g == NULL ? -1 : g - s + 1;
}

/* The token starting with the "<" at p: the index after it, or -1 where the scan stops. */
static Py_ssize_t token(const Scanner *sc, const unsigned char *s, Py_ssize_t p,
                        Py_ssize_t end)
{
    unsigned char c;
    if (p + 1 >= end)
        return -1;
    c = s[p + 1];
    if (is_alpha(c))
        return sc->mode == MODE_FOREIGN ? AT_DEFER : tag(sc, &sc->starts, s, p + 1, end);
    if (c == '/') {
        if (p + 2 >= end)
            return -1;
        if (is_alpha(s[p + 2]))
            return sc->mode == MODE_FOREIGN ? AT_DEFER : tag(sc, &sc->ends, s, p + 2, end);
        return after_gt(s, p + 2, end); /* a bogus comment */
    }
    if (c == '!') {
        if (p + 3 < end && s[p + 2] == '-' && s[p + 3] == '-')
            return sc->comments ? comment(s, p + 4, end) : -1;
        if (p + 8 < end && memcmp(s + p + 2, "[CDATA[", 7) == 0)
            return -1;
        return after_gt(s, p + 2, end); /* a declaration or bogus comment */
    }
    if (c == '?')
        return after_gt(s, p + 2, end);
    return c == '<' ? p + 1 : p + 2; /* a "<" that is text */
}

/* The last token boundary the scan reaches from pos, before end; *defer is set when the
 * pattern must decide what comes there. */
static Py_ssize_t skip(const Scanner *sc, const unsigned char *s, Py_ssize_t p, Py_ssize_t end,
                       int *defer)
{
    *defer = 0;
    while (p < end) {
        const unsigned char *lt = memchr(s + p, '<', (size_t)(end - p));
        Py_ssize_t q;
        if (lt == NULL)
            return end;
        p = lt - s;
        q = token(sc, s, p, end);
        if (q < 0) {
            *defer = q == AT_DEFER;
            return p;
        }
        p = q;
    }
    return p;
}

/* ---- the stop: what the pattern captures where its loop stops ---- */

static void set(Stop *m, int g, Py_ssize_t a, Py_ssize_t b)
{
    m->regs[g][0] = a;
    m->regs[g][1] = b;
}

/* A whole <script> at p (groups 2-4): 1 if it is one, else 0. */
static int script(const unsigned char *s, Py_ssize_t p, Py_ssize_t end, Stop *m)
{
    static const char name[] = "script";
    Py_ssize_t e, t, z, i;
    if (p + 7 >= end || !same_name(s, p + 1, p + 7, name, 6) || !is_delim(s[p + 7]))
        return 0;
    e = attributes(NULL, NULL, s, p + 7, end);
    if (e < 0)
        return 0;
    for (t = e;; t++) { /* its text: up to "</script" and a delimiter, or "<!--" */
        const unsigned char *lt = t < end ? memchr(s + t, '<', (size_t)(end - t)) : NULL;
        if (lt == NULL) {
            set(m, 2, p, e);
            set(m, 3, e, end);
            set(m, 4, end, end);
            m->lastindex = 4;
            m->regs[0][1] = end;
            return 1;
        }
        t = lt - s;
        if (t + 3 < end && s[t + 1] == '!' && s[t + 2] == '-' && s[t + 3] == '-')
            return 0;
        if (t + 8 < end && s[t + 1] == '/' && is_delim(s[t + 8])) {
            for (i = 0; i < 6 && lower(s[t + 2 + i]) == (unsigned char)name[i]; i++)
                ;
            if (i == 6)
                break;
        }
    }
    z = attributes(NULL, NULL, s, t + 8, end);
    if (z < 0)
        return 0;
    set(m, 2, p, e);
    set(m, 3, e, t);
    m->lastindex = 3;
    m->regs[0][1] = z;
    return 1;
}

/* The pattern's captures after its loop stopped at p: a whole script (2-4), a quiet
 * tag in lower case (5-6), any tag (7-9), or none. */
static void tail(const Scanner *sc, const unsigned char *s, Py_ssize_t p, Py_ssize_t end,
                 Stop *m)
{
    Py_ssize_t a, b, e;
    int is_lower = 0, slash;
    m->regs[0][1] = p;
    if (p + 1 >= end || s[p] != '<')
        return;
    if (sc->mode == MODE_HTML && script(s, p, end, m))
        return;
    slash = s[p + 1] == '/';
    a = p + 1 + slash;
    if (a >= end || !is_alpha(s[a]))
        return;
    for (b = a; b < end && !is_delim(s[b]); b++)
        ;
    e = attributes(NULL, NULL, s, b, end);
    if (e < 0)
        return;
    m->regs[0][1] = e;
    if (sc->mode == MODE_HTML && !slash && lookup(&sc->voids, s, a, b, &is_lower) != NULL &&
        is_lower) {
        set(m, 5, p, e);
        set(m, 6, b, b);
        m->lastindex = 5;
        return;
    }
    set(m, 7, p, e);
    set(m, 8, p + 1, a);
    set(m, 9, a, b);
    m->lastindex = 7;
}

/* ---- tables from Python ---- */

static int copy_name(PyObject *o, char *out, unsigned char *len)
{
    Py_ssize_t n, i;
    const char *u;
    if (!PyUnicode_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "names must be str");
        return -1;
    }
    u = PyUnicode_AsUTF8AndSize(o, &n);
    if (u == NULL)
        return -1;
    if (n < 1 || n > MAX_NAME) {
        PyErr_Format(PyExc_ValueError, "name %R: 1 to %d bytes", o, MAX_NAME);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)u[i] >= 0x80 || u[i] != (char)lower((unsigned char)u[i])) {
            PyErr_Format(PyExc_ValueError, "name %R: lower-case ASCII only", o);
            return -1;
        }
        out[i] = u[i];
    }
    out[n] = 0;
    *len = (unsigned char)n;
    return 0;
}

static Name *add(Table *t, PyObject *name)
{
    Name *e;
    unsigned char len;
    char buf[MAX_NAME + 1];
    int k;
    if (copy_name(name, buf, &len) < 0)
        return NULL;
    for (k = 0; k < t->count; k++)
        if (t->names[k].len == len && memcmp(t->names[k].name, buf, len) == 0)
            return &t->names[k];
    if (t->count == MAX_NAMES) {
        PyErr_SetString(PyExc_ValueError, "too many names");
        return NULL;
    }
    e = &t->names[t->count++];
    memset(e, 0, sizeof(*e));
    memcpy(e->name, buf, (size_t)len + 1);
    e->len = len;
    e->kind = STOP;
    return e;
}

static int fill_kind(Table *t, PyObject *names, int kind)
{
    PyObject *it = PyObject_GetIter(names), *o;
    if (it == NULL)
        return -1;
    while ((o = PyIter_Next(it)) != NULL) {
        Name *e = add(t, o);
        Py_DECREF(o);
        if (e == NULL) {
            Py_DECREF(it);
            return -1;
        }
        e->kind = (unsigned char)kind;
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static int fill(Table *t, PyObject *names)
{
    if (names == Py_None) {
        t->all = 1;
        return 0;
    }
    return fill_kind(t, names, STOP);
}

static int fill_quiet(Table *t, PyObject *quiet)
{
    PyObject *key, *value;
    Py_ssize_t i = 0;
    if (!PyDict_Check(quiet)) {
        PyErr_SetString(PyExc_TypeError, "quiet must be a dict");
        return -1;
    }
    while (PyDict_Next(quiet, &i, &key, &value)) {
        Name *e = add(t, key);
        if (e == NULL || copy_name(value, e->attr, &e->attr_len) < 0)
            return -1;
        e->kind = QUIET;
    }
    return 0;
}

static int fill_widgets(Scanner *sc, PyObject *widgets, PyObject *classes)
{
    Py_ssize_t i, j, n;
    if (!PyTuple_Check(classes)) {
        PyErr_SetString(PyExc_TypeError, "classes must be a tuple of bytes");
        return -1;
    }
    n = PyTuple_GET_SIZE(classes);
    for (i = 0; i < n; i++) {
        PyObject *c = PyTuple_GET_ITEM(classes, i);
        const char *w;
        if (!PyBytes_Check(c)) {
            PyErr_SetString(PyExc_TypeError, "classes must be a tuple of bytes");
            return -1;
        }
        w = PyBytes_AS_STRING(c);
        /* A class the value's quoting could cut: the pattern decides every widget tag. */
        for (j = 0; j < PyBytes_GET_SIZE(c); j++)
            if (is_space((unsigned char)w[j]) || strchr("\"'>", w[j]) != NULL)
                return 0;
        if (PyBytes_GET_SIZE(c) == 0)
            return 0;
    }
    Py_INCREF(classes);
    sc->classes = classes;
    return fill_kind(&sc->starts, widgets, WIDGET);
}

/* ---- Scanner ---- */

static PyObject *Scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pattern", "mode",   "starts",   "ends", "quiet", "widgets",
                             "classes", "raw",    "deferred", "voids", "comments", NULL};
    PyObject *pattern, *starts, *ends, *quiet, *widgets, *classes, *raw, *defer, *voids;
    int comments, mode;
    Scanner *sc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OiOOOOOOOOp:Scanner", kwlist, &pattern, &mode,
                                     &starts, &ends, &quiet, &widgets, &classes, &raw, &defer,
                                     &voids, &comments))
        return NULL;
    if (mode < MODE_FOREIGN || mode > MODE_HTML) {
        PyErr_SetString(PyExc_ValueError, "mode: 0, 1 or 2");
        return NULL;
    }
    sc = (Scanner *)type->tp_alloc(type, 0);
    if (sc == NULL)
        return NULL;
    Py_INCREF(pattern);
    sc->pattern = pattern;
    sc->comments = comments;
    sc->mode = mode;
    sc->match = PyObject_GetAttrString(pattern, "match");
    if (sc->match == NULL || fill(&sc->starts, starts) < 0 || fill(&sc->ends, ends) < 0 ||
        fill(&sc->voids, voids) < 0 ||
        (!sc->starts.all && fill_quiet(&sc->starts, quiet) < 0) ||
        (!sc->starts.all && fill_widgets(sc, widgets, classes) < 0) ||
        (!sc->starts.all && fill_kind(&sc->starts, raw, RAW) < 0) ||
        (!sc->starts.all && fill_kind(&sc->starts, defer, DEFER) < 0)) {
        Py_DECREF(sc);
        return NULL;
    }
    return (PyObject *)sc;
}

static void Scanner_dealloc(Scanner *sc)
{
    Py_XDECREF(sc->match);
    Py_XDECREF(sc->pattern);
    Py_XDECREF(sc->classes);
    Py_TYPE(sc)->tp_free((PyObject *)sc);
}

static int clamp(PyObject *buf, Py_ssize_t *pos, Py_ssize_t *end)
{
    Py_ssize_t n = PyBytes_GET_SIZE(buf);
    *pos = *pos < 0 ? 0 : *pos > n ? n : *pos;
    *end = *end < 0 ? 0 : *end > n ? n : *end;
    return 0;
}

static PyObject *Scanner_finditer(Scanner *sc, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t pos, end;
    Scan *it;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "finditer(buf, pos, endpos)");
        return NULL;
    }
    if (!PyBytes_CheckExact(args[0]))  /* only bytes are walked here */
        return PyObject_CallMethod(sc->pattern, "finditer", "OOO", args[0], args[1], args[2]);
    pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred())
        return NULL;
    clamp(args[0], &pos, &end);
    it = PyObject_New(Scan, &ScanType);
    if (it == NULL)
        return NULL;
    Py_INCREF(sc);
    it->scanner = sc;
    Py_INCREF(args[0]);
    it->buf = args[0];
    it->pos = pos;
    it->end = end;
    it->done = 0;
    return (PyObject *)it;
}

static PyObject *Scanner_skip(Scanner *sc, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t pos, end;
    int defer;
    if (nargs != 3 || !PyBytes_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "skip(buf: bytes, pos, endpos)");
        return NULL;
    }
    pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred())
        return NULL;
    clamp(args[0], &pos, &end);
    if (pos >= end)
        return PyLong_FromSsize_t(pos);
    return PyLong_FromSsize_t(
        skip(sc, (const unsigned char *)PyBytes_AS_STRING(args[0]), pos, end, &defer));
}

static PyMethodDef Scanner_methods[] = {
    {"finditer", (PyCFunction)(void (*)(void))Scanner_finditer, METH_FASTCALL,
     "finditer(buf, pos, endpos): the pattern's matches, one after another, as "
     "Pattern.finditer gives them while none is empty."},
    {"skip", (PyCFunction)(void (*)(void))Scanner_skip, METH_FASTCALL,
     "skip(buf, pos, endpos): the token boundary the compiled walk reaches from pos."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Scanner_members[] = {
    {"pattern", T_OBJECT, offsetof(Scanner, pattern), READONLY, "the pattern it fronts"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A skipper pattern with its compiled front.",
    .tp_methods = Scanner_methods,
    .tp_members = Scanner_members,
    .tp_new = Scanner_new,
};

/* ---- Scan: the iterator ---- */

static void Scan_dealloc(Scan *it)
{
    Py_XDECREF(it->scanner);
    Py_XDECREF(it->buf);
    PyObject_Free(it);
}

/* The pattern's own match from p: where this walk leaves the decision to it. */
static PyObject *deferred(Scan *it, Py_ssize_t p, Py_ssize_t *stop)
{
    PyObject *m, *e, *args[3];
    args[0] = it->buf;
    args[1] = PyLong_FromSsize_t(p);
    args[2] = PyLong_FromSsize_t(it->end);
    m = (args[1] && args[2]) ? PyObject_Vectorcall(it->scanner->match, args, 3, NULL) : NULL;
    Py_XDECREF(args[1]);
    Py_XDECREF(args[2]);
    if (m == NULL || m == Py_None) {
        if (m == Py_None)
            PyErr_SetString(PyExc_RuntimeError, "a skipper pattern did not match");
        Py_XDECREF(m);
        return NULL;
    }
    e = PyObject_CallMethodNoArgs(m, str_end);
    if (e == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    *stop = PyLong_AsSsize_t(e);
    Py_DECREF(e);
    if (*stop == -1 && PyErr_Occurred()) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* The next match, as the pattern gives it from where the last one ended. */
static PyObject *Scan_next(Scan *it)
{
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(it->buf);
    Py_ssize_t p, stop;
    int defer, g;
    Stop *m;
    if (it->done)
        return NULL;
    p = skip(it->scanner, s, it->pos, it->end, &defer);
    if (defer) {
        PyObject *found = deferred(it, p, &stop);
        if (found == NULL)
            return NULL;
        it->done = stop == it->pos; /* after an empty match the gate starts a new scan */
        it->pos = stop;
        return found;
    }
    m = PyObject_New(Stop, &StopType);
    if (m == NULL)
        return NULL;
    for (g = 0; g < NGROUPS; g++)
        m->regs[g][0] = m->regs[g][1] = -1;
    m->regs[0][0] = it->pos;
    m->lastindex = -1;
    tail(it->scanner, s, p, it->end, m);
    it->done = m->regs[0][1] == it->pos;
    it->pos = m->regs[0][1];
    return (PyObject *)m;
}

static PyTypeObject ScanType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.Scan",
    .tp_basicsize = sizeof(Scan),
    .tp_dealloc = (destructor)Scan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Scan_next,
};

/* ---- Stop: the match-like result ---- */

static int group(PyObject *const *args, Py_ssize_t nargs, int *g)
{
    long n = 0;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "one group number at most");
        return -1;
    }
    if (nargs == 1) {
        n = PyLong_AsLong(args[0]);
        if (n == -1 && PyErr_Occurred())
            return -1;
    }
    if (n < 0 || n >= NGROUPS) {
        PyErr_SetString(PyExc_IndexError, "no such group");
        return -1;
    }
    *g = (int)n;
    return 0;
}

static PyObject *Stop_start(Stop *m, PyObject *const *args, Py_ssize_t nargs)
{
    int g;
    return group(args, nargs, &g) < 0 ? NULL : PyLong_FromSsize_t(m->regs[g][0]);
}

static PyObject *Stop_end(Stop *m, PyObject *const *args, Py_ssize_t nargs)
{
    int g;
    return group(args, nargs, &g) < 0 ? NULL : PyLong_FromSsize_t(m->regs[g][1]);
}

static PyObject *Stop_span(Stop *m, PyObject *const *args, Py_ssize_t nargs)
{
    int g;
    if (group(args, nargs, &g) < 0)
        return NULL;
    return Py_BuildValue("(nn)", m->regs[g][0], m->regs[g][1]);
}

static PyObject *Stop_lastindex(Stop *m, void *closure)
{
    (void)closure;
    if (m->lastindex < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(m->lastindex);
}

static PyObject *Stop_regs(Stop *m, void *closure)
{
    PyObject *t = PyTuple_New(NGROUPS);
    int g;
    (void)closure;
    if (t == NULL)
        return NULL;
    for (g = 0; g < NGROUPS; g++) {
        PyObject *pair = Py_BuildValue("(nn)", m->regs[g][0], m->regs[g][1]);
        if (pair == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, g, pair);
    }
    return t;
}

static PyMethodDef Stop_methods[] = {
    {"start", (PyCFunction)(void (*)(void))Stop_start, METH_FASTCALL, "as Match.start"},
    {"end", (PyCFunction)(void (*)(void))Stop_end, METH_FASTCALL, "as Match.end"},
    {"span", (PyCFunction)(void (*)(void))Stop_span, METH_FASTCALL, "as Match.span"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Stop_getset[] = {
    {"lastindex", (getter)Stop_lastindex, NULL, "as Match.lastindex", NULL},
    {"regs", (getter)Stop_regs, NULL, "as Match.regs", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static void Stop_dealloc(Stop *m)
{
    PyObject_Free(m);
}

static PyTypeObject StopType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.Stop",
    .tp_basicsize = sizeof(Stop),
    .tp_dealloc = (destructor)Stop_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Where a skipper stopped, read as its pattern's match object is read.",
    .tp_methods = Stop_methods,
    .tp_getset = Stop_getset,
};

/* ---- Finder: where raw text, script data or a comment ends ---- */

/* An alternative of a Finder's pattern: a literal whose letters match in any case,
 * followed, when `delim` is set, by a byte that ends a tag name. */
typedef struct {
    unsigned char len;
    unsigned char delim;
    unsigned char lit[MAX_NAME + 3];
} Alt;

#define MAX_ALTS 16
#define MAX_FIRSTS 4

typedef struct {
    PyObject_HEAD
    PyObject *pattern;
    PyObject *match; /* the pattern's bound match method */
    Alt alts[MAX_ALTS];
    int count;
    unsigned char firsts[MAX_FIRSTS]; /* the distinct first bytes of the alternatives */
    int nfirsts;
} Finder;

static PyTypeObject FinderType;

/* Whether alternative a matches at p, within end. */
static int alt_at(const Alt *a, const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    Py_ssize_t i;
    if (end - p < (Py_ssize_t)a->len + a->delim)
        return 0;
    for (i = 0; i < a->len; i++)
        if (lower(s[p + i]) != a->lit[i])
            return 0;
    return !a->delim || is_delim(s[p + a->len]);
}

/* The first position from p where an alternative matches, or -1. Each first byte is
 * found with memchr, and found again only once the search has passed it: linear. */
static Py_ssize_t find(const Finder *f, const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    Py_ssize_t next[MAX_FIRSTS];
    int k, i;
    for (k = 0; k < f->nfirsts; k++)
        next[k] = -1;
    while (p < end) {
        Py_ssize_t at = end;
        for (k = 0; k < f->nfirsts; k++) {
            if (next[k] < p) {
                const unsigned char *c = memchr(s + p, f->firsts[k], (size_t)(end - p));
                next[k] = c == NULL ? end : c - s;
            }
            if (next[k] < at)
                at = next[k];
        }
        if (at >= end)
            return -1;
        for (i = 0; i < f->count; i++)
            if (f->alts[i].lit[0] == lower(s[at]) && alt_at(&f->alts[i], s, at, end))
                return at;
        p = at + 1;
    }
    return -1;
}

static int add_alt(Finder *f, PyObject *item)
{
    PyObject *lit;
    int delim, k;
    Py_ssize_t n, i;
    Alt *a;
    if (!PyTuple_Check(item)) {
        PyErr_SetString(PyExc_TypeError, "an alternative is a (bytes, bool) tuple");
        return -1;
    }
    if (!PyArg_ParseTuple(item, "Sp:alternative", &lit, &delim))
        return -1;
    n = PyBytes_GET_SIZE(lit);
    if (f->count == MAX_ALTS || n < 1 || n > MAX_NAME + 2) {
        PyErr_SetString(PyExc_ValueError, "alternatives: at most 16, of 1 to 33 bytes");
        return -1;
    }
    a = &f->alts[f->count++];
    a->len = (unsigned char)n;
    a->delim = (unsigned char)delim;
    for (i = 0; i < n; i++) {
        a->lit[i] = (unsigned char)PyBytes_AS_STRING(lit)[i];
        if (a->lit[i] != lower(a->lit[i])) {
            PyErr_SetString(PyExc_ValueError, "alternatives: lower case only");
            return -1;
        }
    }
    for (k = 0; k < f->nfirsts && f->firsts[k] != a->lit[0]; k++)
        ;
    if (k == f->nfirsts) {
        if (k == MAX_FIRSTS || is_alpha(a->lit[0])) {
            PyErr_SetString(PyExc_ValueError, "alternatives: at most 4 first bytes, no letter");
            return -1;
        }
        f->firsts[f->nfirsts++] = a->lit[0];
    }
    return 0;
}

static PyObject *Finder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pattern", "alternatives", NULL};
    PyObject *pattern, *alts;
    Finder *f;
    Py_ssize_t i;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!:Finder", kwlist, &pattern, &PyTuple_Type,
                                     &alts))
        return NULL;
    f = (Finder *)type->tp_alloc(type, 0);
    if (f == NULL)
        return NULL;
    Py_INCREF(pattern);
    f->pattern = pattern;
    f->match = PyObject_GetAttrString(pattern, "match");
    if (f->match == NULL) {
        Py_DECREF(f);
        return NULL;
    }
    for (i = 0; i < PyTuple_GET_SIZE(alts); i++) {
        if (add_alt(f, PyTuple_GET_ITEM(alts, i)) < 0) {
            Py_DECREF(f);
            return NULL;
        }
    }
    return (PyObject *)f;
}

static void Finder_dealloc(Finder *f)
{
    Py_XDECREF(f->match);
    Py_XDECREF(f->pattern);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

/* search(buf, pos=0, endpos=len): the pattern's match at the first place one of the
 * alternatives matches. The match object is the pattern's own; where the pattern does
 * not match there (never, by the differential tests) or the buffer is not bytes, the
 * pattern searches by itself. */
static PyObject *Finder_search(Finder *f, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t pos = 0, end = PY_SSIZE_T_MAX, at;
    PyObject *m, *call[3];
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "search(buf, pos=0, endpos=len(buf))");
        return NULL;
    }
    if (nargs > 1 && (pos = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred())
        return NULL;
    if (nargs > 2 && (end = PyLong_AsSsize_t(args[2])) == -1 && PyErr_Occurred())
        return NULL;
    if (!PyBytes_CheckExact(args[0]))
        return PyObject_CallMethod(f->pattern, "search", "Onn", args[0], pos, end);
    clamp(args[0], &pos, &end);
    at = find(f, (const unsigned char *)PyBytes_AS_STRING(args[0]), pos, end);
    if (at < 0)
        Py_RETURN_NONE;
    call[0] = args[0];
    call[1] = PyLong_FromSsize_t(at);
    call[2] = PyLong_FromSsize_t(end);
    m = (call[1] && call[2]) ? PyObject_Vectorcall(f->match, call, 3, NULL) : NULL;
    Py_XDECREF(call[1]);
    Py_XDECREF(call[2]);
    if (m != Py_None)
        return m;
    Py_DECREF(m);
    return PyObject_CallMethod(f->pattern, "search", "Onn", args[0], pos, end);
}

static PyMethodDef Finder_methods[] = {
    {"search", (PyCFunction)(void (*)(void))Finder_search, METH_FASTCALL,
     "search(buf, pos=0, endpos=len(buf)): as Pattern.search."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Finder_members[] = {
    {"pattern", T_OBJECT, offsetof(Finder, pattern), READONLY, "the pattern it fronts"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FinderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.Finder",
    .tp_basicsize = sizeof(Finder),
    .tp_dealloc = (destructor)Finder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A search pattern of a few literal alternatives, found with memchr.",
    .tp_methods = Finder_methods,
    .tp_members = Finder_members,
    .tp_new = Finder_new,
};

/* ---- tag_limit: where a tag cut off by the end of the buffer starts ---- */

static Py_ssize_t rfind_byte(const unsigned char *s, Py_ssize_t a, Py_ssize_t b, unsigned char c)
{
#if defined(__GLIBC__)
    const unsigned char *r = b > a ? memrchr(s + a, c, (size_t)(b - a)) : NULL;
    return r == NULL ? -1 : r - s;
#else
    while (b > a)
        if (s[--b] == c)
            return b;
    return -1;
#endif
}

static Py_ssize_t find_byte(const unsigned char *s, Py_ssize_t a, Py_ssize_t n, unsigned char c)
{
    const unsigned char *r = a < n ? memchr(s + a, c, (size_t)(n - a)) : NULL;
    return r == NULL ? -1 : r - s;
}

/* Whether the quote before `last` opens the value a complete tag's ">" at gt is in. */
static Py_ssize_t opening_quote(const unsigned char *s, Py_ssize_t n, Py_ssize_t pos,
                                Py_ssize_t last, Py_ssize_t gt)
{
    static const unsigned char quotes[2] = {'"', '\''};
    int k;
    for (k = 0; k < 2; k++) {
        Py_ssize_t q = rfind_byte(s, pos, last, quotes[k]);
        if (q > pos && s[q - 1] == '=' && find_byte(s, gt, n, quotes[k]) < 0)
            return q;
    }
    return -1;
}

/* The end of the tag that `match` (TAG.match) matches at `at`, less one, or -1. */
static int matched_gt(PyObject *match, PyObject *buf, Py_ssize_t at, Py_ssize_t *gt)
{
    PyObject *args[2], *m, *e;
    args[0] = buf;
    args[1] = PyLong_FromSsize_t(at);
    if (args[1] == NULL)
        return -1;
    m = PyObject_Vectorcall(match, args, 2, NULL);
    Py_DECREF(args[1]);
    if (m == NULL)
        return -1;
    *gt = -1;
    if (m != Py_None) {
        e = PyObject_CallMethodNoArgs(m, str_end);
        if (e == NULL) {
            Py_DECREF(m);
            return -1;
        }
        *gt = PyLong_AsSsize_t(e) - 1;
        Py_DECREF(e);
    }
    Py_DECREF(m);
    return PyErr_Occurred() ? -1 : 0;
}

/* tag_limit(match, buf, pos, end): consentgate.tokens.tag_limit, step for step. */
static PyObject *tag_limit(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *s;
    Py_ssize_t n, pos, end, last, gt, next;
    int i, quoted = 0;
    (void)module;
    if (nargs != 4 || !PyBytes_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "tag_limit(match, buf: bytes, pos, end)");
        return NULL;
    }
    if (((pos = PyLong_AsSsize_t(args[2])) == -1 || (end = PyLong_AsSsize_t(args[3])) == -1) &&
        PyErr_Occurred())
        return NULL;
    s = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    n = PyBytes_GET_SIZE(args[1]);
    if (pos < 0 || end > n || pos > end) {
        PyErr_SetString(PyExc_ValueError, "tag_limit: 0 <= pos <= end <= len(buf)");
        return NULL;
    }
    last = end;
    for (i = 0; i < 8; i++) {
        last = rfind_byte(s, pos, last, '<');
        if (last < 0)
            return PyLong_FromSsize_t(end);
        next = last + 1 < n && s[last + 1] == '/' ? last + 2 : last + 1;
        if (next >= end)
            return PyLong_FromSsize_t(last);
        if (!is_alpha(s[next]))
            continue;
        gt = find_byte(s, next, n, '>');
        if (quoted && gt >= 0 && matched_gt(args[0], args[1], last, &gt) < 0)
            return NULL;
        if (gt < 0)
            return PyLong_FromSsize_t(last);
        last = opening_quote(s, n, pos, last, gt);
        if (last < 0)
            return PyLong_FromSsize_t(end);
        quoted = 1;
    }
    return PyLong_FromSsize_t(end);
}

/* ---- TagFinder: where the next tag is that may place an insertion ---- */

/* The compiled form of a candidate pattern of consentgate.tokens (BODY_START,
 * FIRST_START, FIRST_OR_BODY): "<" and a start tag whose name is not in `passed`
 * (followed by what ends a name), or "</" and an end tag whose name is in `ends`
 * (followed by what ends a name). A name that runs to the end of the buffer is not
 * known to be in `passed`, so it is found, as the pattern's lookahead finds it. */
typedef struct {
    PyObject_HEAD
    PyObject *pattern;
    Table passed;
    Table ends;
} TagFinder;

static PyTypeObject TagFinderType;

/* Whether the tag at s[p] ("<" there) is one the finder looks for. Reads at most
 * MAX_NAME + 2 bytes of its name. */
static int wanted(const TagFinder *f, const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    Py_ssize_t a = p + 1, b;
    int end_tag = 0, is_lower;
    if (a < end && s[a] == '/') {
        end_tag = 1;
        a++;
    }
    if (a >= end || !is_alpha(s[a]))
        return 0;
    for (b = a + 1; b < end && b - a <= MAX_NAME && !is_delim(s[b]); b++)
        ;
    if (b == end || !is_delim(s[b])) /* cut off by the end, or longer than any name */
        return !end_tag;
    if (end_tag)
        return lookup(&f->ends, s, a, b, &is_lower) != NULL;
    return lookup(&f->passed, s, a, b, &is_lower) == NULL;
}

static PyObject *TagFinder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pattern", "passed", "ends", NULL};
    PyObject *pattern, *passed, *ends;
    TagFinder *f;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:TagFinder", kwlist, &pattern, &passed, &ends))
        return NULL;
    f = (TagFinder *)type->tp_alloc(type, 0);
    if (f == NULL)
        return NULL;
    Py_INCREF(pattern);
    f->pattern = pattern;
    if (fill(&f->passed, passed) < 0 || fill(&f->ends, ends) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    return (PyObject *)f;
}

static void TagFinder_dealloc(TagFinder *f)
{
    Py_XDECREF(f->pattern);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

static PyObject *TagFinder_find(TagFinder *f, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *s;
    const void *lt;
    Py_ssize_t pos, end;
    if (nargs != 2 || !PyBytes_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "find(buf: bytes, pos)");
        return NULL;
    }
    pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    end = PyBytes_GET_SIZE(args[0]);
    pos = pos < 0 ? 0 : pos > end ? end : pos;
    s = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    while ((lt = memchr(s + pos, '<', (size_t)(end - pos))) != NULL) {
        pos = (const unsigned char *)lt - s;
        if (wanted(f, s, pos, end))
            return PyLong_FromSsize_t(pos);
        pos++;
    }
    return PyLong_FromSsize_t(end);
}

static PyMethodDef TagFinder_methods[] = {
    {"find", (PyCFunction)(void (*)(void))TagFinder_find, METH_FASTCALL,
     "find(buf, pos): where the pattern's first match from pos starts, or len(buf)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef TagFinder_members[] = {
    {"pattern", T_OBJECT, offsetof(TagFinder, pattern), READONLY, "the pattern it stands for"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject TagFinderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.TagFinder",
    .tp_basicsize = sizeof(TagFinder),
    .tp_dealloc = (destructor)TagFinder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A candidate pattern's search, compiled.",
    .tp_methods = TagFinder_methods,
    .tp_members = TagFinder_members,
    .tp_new = TagFinder_new,
};

static PyMethodDef module_methods[] = {
    {"tag_limit", (PyCFunction)(void (*)(void))tag_limit, METH_FASTCALL,
     "tag_limit(match, buf, pos, end): where a tag cut off by the buffer's end starts."},
    {NULL, NULL, 0, NULL},
};

/* ---- Literals: the byte-string searches of consentgate.rules ----
 *
 * Rules looks for literal byte strings in every candidate element: its source patterns'
 * hosts and paths in a start tag's bytes, once translated (Rules.may_classify, through
 * look()), and its inline signatures in a script's text (Rules.classify_inline, through
 * find()). Here both are one pass: a bit per pair of first two bytes finds where a
 * literal may start, memcmp confirms. The regular expressions of rules.py stay the
 * reference; the tests run both on the same input. Reads are bounded by the text's
 * length, and the work by its length times the literals sharing a first pair.
 */

typedef struct {
    PyObject_HEAD
    PyObject *literals;         /* tuple of bytes */
    Py_ssize_t count;
    Py_ssize_t *order;          /* literal indexes by first byte: order[first[c]:first[c+1]] */
    int *rank;                  /* each literal's rank: of those found first, the least wins */
    unsigned char *bounded;     /* the literal starts with an identifier byte */
    Py_ssize_t first[257];
    unsigned char pairs[8192];  /* bit a << 8 | b: some literal starts with bytes a, b */
    unsigned char single[256];  /* some literal is this one byte */
    unsigned char ident[256];   /* identifier bytes: a bounded literal never follows one */
    unsigned char table[256];   /* look(): what each byte is translated to */
    unsigned char drop[256];    /* look(): bytes deleted before translating */
} Literals;

static PyTypeObject LiteralsType;

static inline int may_start(const Literals *lt, const unsigned char *s, Py_ssize_t i,
                            Py_ssize_t n)
{
    unsigned pair;
    if (lt->single[s[i]])
        return 1;
    if (i + 1 >= n)
        return 0;
    pair = (unsigned)s[i] << 8 | s[i + 1];
    return lt->pairs[pair >> 3] >> (pair & 7) & 1;
}

/* The rank of the leftmost literal in s[0:n] (the least rank of those starting there),
 * or -1. A bounded literal right after an identifier byte does not count there. */
static int find_literal(const Literals *lt, const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i, k;
    for (i = 0; i < n; i++) {
        int best = -1;
        if (!may_start(lt, s, i, n))
            continue;
        for (k = lt->first[s[i]]; k < lt->first[s[i] + 1]; k++) {
            Py_ssize_t j = lt->order[k];
            PyObject *lit = PyTuple_GET_ITEM(lt->literals, j);
            Py_ssize_t len = PyBytes_GET_SIZE(lit);
            if (len <= n - i && memcmp(s + i, PyBytes_AS_STRING(lit), (size_t)len) == 0 &&
                !(lt->bounded[j] && i > 0 && lt->ident[s[i - 1]]) &&
                (best < 0 || lt->rank[j] < best))
                best = lt->rank[j];
        }
        if (best >= 0)
            return best;
    }
    return -1;
}

static int fill_literals(Literals *lt, PyObject *ranks, const unsigned char *ident)
{
    Py_ssize_t j, c, n = lt->count;
    Py_ssize_t counts[256] = {0};
    lt->order = PyMem_New(Py_ssize_t, n ? n : 1);
    lt->rank = PyMem_New(int, n ? n : 1);
    lt->bounded = PyMem_New(unsigned char, n ? n : 1);
    if (lt->order == NULL || lt->rank == NULL || lt->bounded == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (j = 0; j < n; j++) {
        PyObject *lit = PyTuple_GET_ITEM(lt->literals, j);
        const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(lit);
        long rank = PyLong_AsLong(PyTuple_GET_ITEM(ranks, j));
        if (rank == -1 && PyErr_Occurred())
            return -1;
        if (PyBytes_GET_SIZE(lit) == 0 || rank < 0 || rank > INT_MAX) {
            PyErr_SetString(PyExc_ValueError, "literals must be non-empty, ranks >= 0");
            return -1;
        }
        lt->rank[j] = (int)rank;
        lt->bounded[j] = ident[b[0]];
        counts[b[0]]++;
        if (PyBytes_GET_SIZE(lit) == 1)
            lt->single[b[0]] = 1;
        else
            lt->pairs[((unsigned)b[0] << 8 | b[1]) >> 3] |= (unsigned char)(1 << (b[1] & 7));
    }
    lt->first[0] = 0;
    for (c = 0; c < 256; c++)
        lt->first[c + 1] = lt->first[c] + counts[c];
    memset(counts, 0, sizeof counts);
    for (j = 0; j < n; j++) {
        unsigned char b = (unsigned char)PyBytes_AS_STRING(PyTuple_GET_ITEM(lt->literals, j))[0];
        lt->order[lt->first[b] + counts[b]++] = j;
    }
    return 0;
}

static PyObject *Literals_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *literals, *ranks;
    Py_buffer ident, table, drop;
    Literals *lt;
    Py_ssize_t j;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "O!O!y*y*y*", &PyTuple_Type, &literals, &PyTuple_Type, &ranks,
                          &ident, &table, &drop))
        return NULL;
    lt = NULL;
    if (ident.len != 256 || table.len != 256 ||
        PyTuple_GET_SIZE(literals) != PyTuple_GET_SIZE(ranks)) {
        PyErr_SetString(PyExc_ValueError, "Literals: bad table or rank count");
        goto done;
    }
    for (j = 0; j < PyTuple_GET_SIZE(literals); j++)
        if (!PyBytes_CheckExact(PyTuple_GET_ITEM(literals, j))) {
            PyErr_SetString(PyExc_TypeError, "Literals: literals must be bytes");
            goto done;
        }
    lt = (Literals *)type->tp_alloc(type, 0);
    if (lt == NULL)
        goto done;
    Py_INCREF(literals);
    lt->literals = literals;
    lt->count = PyTuple_GET_SIZE(literals);
    memcpy(lt->ident, ident.buf, 256);
    memcpy(lt->table, table.buf, 256);
    for (j = 0; j < drop.len; j++)
        lt->drop[((const unsigned char *)drop.buf)[j]] = 1;
    if (fill_literals(lt, ranks, lt->ident) < 0)
        Py_CLEAR(lt);
done:
    PyBuffer_Release(&ident);
    PyBuffer_Release(&table);
    PyBuffer_Release(&drop);
    return (PyObject *)lt;
}

static void Literals_dealloc(Literals *lt)
{
    PyMem_Free(lt->order);
    PyMem_Free(lt->rank);
    PyMem_Free(lt->bounded);
    Py_XDECREF(lt->literals);
    Py_TYPE(lt)->tp_free((PyObject *)lt);
}

static PyObject *Literals_find(Literals *lt, PyObject *text)
{
    if (!PyBytes_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "find() takes bytes");
        return NULL;
    }
    return PyLong_FromLong(find_literal(lt, (const unsigned char *)PyBytes_AS_STRING(text),
                                        PyBytes_GET_SIZE(text)));
}

/* The text translated (bytes in drop deleted first), then searched: 1 if a literal is
 * in it, plus 2 if byte 1 is and 4 if byte 3 is (what the caller looks at further). */
static PyObject *Literals_look(Literals *lt, PyObject *text)
{
    unsigned char local[1024], *u = local;
    const unsigned char *s;
    Py_ssize_t i, m = 0, n;
    long flags = 0;
    if (!PyBytes_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "look() takes bytes");
        return NULL;
    }
    s = (const unsigned char *)PyBytes_AS_STRING(text);
    n = PyBytes_GET_SIZE(text);
    if (n > (Py_ssize_t)sizeof local && (u = PyMem_Malloc((size_t)n)) == NULL)
        return PyErr_NoMemory();
    for (i = 0; i < n; i++) {
        unsigned char t;
        if (lt->drop[s[i]])
            continue;
        t = lt->table[s[i]];
        flags |= t == 1 ? 2 : t == 3 ? 4 : 0;
        u[m++] = t;
    }
    flags |= find_literal(lt, u, m) >= 0;
    if (u != local)
        PyMem_Free(u);
    return PyLong_FromLong(flags);
}

static PyMethodDef Literals_methods[] = {
    {"find", (PyCFunction)Literals_find, METH_O,
     "find(text) -> the rank of the leftmost literal in text, or -1"},
    {"look", (PyCFunction)Literals_look, METH_O,
     "look(text) -> 1 if a literal is in the translated text, | 2 if byte 1, | 4 if byte 3"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LiteralsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.Literals",
    .tp_basicsize = sizeof(Literals),
    .tp_dealloc = (destructor)Literals_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Literals(literals, ranks, ident, table, delete): the searches of Rules.",
    .tp_methods = Literals_methods,
    .tp_new = Literals_new,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "consentgate._speedups",
    .m_doc = "The compiled front of consentgate's skipper patterns.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *m;
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&ScanType) < 0 ||
        PyType_Ready(&StopType) < 0 || PyType_Ready(&FinderType) < 0 ||
        PyType_Ready(&TagFinderType) < 0)
        return NULL;
    str_end = PyUnicode_InternFromString("end");
    if (str_end == NULL)
        return NULL;
    m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&FinderType);
    if (PyModule_AddObject(m, "Finder", (PyObject *)&FinderType) < 0) {
        Py_DECREF(&FinderType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&TagFinderType);
    if (PyModule_AddObject(m, "TagFinder", (PyObject *)&TagFinderType) < 0) {
        Py_DECREF(&TagFinderType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyType_Ready(&LiteralsType) < 0 ||
        PyModule_AddObjectRef(m, "Literals", (PyObject *)&LiteralsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
