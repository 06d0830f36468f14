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
 * Hostile input: every read is bounded by the end given to the scan; no recursion;
 * names longer than any configured name are never looked up.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

#define MAX_NAME 31   /* longer names are in no table */
#define MAX_NAMES 128 /* entries of one table */

enum { STOP = 1, QUIET = 2, WIDGET = 3 };

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
    int comments;      /* comments are consumed (else the scan stops at them) */
    PyObject *classes; /* tuple of bytes: a widget's classes */
} Scanner;

typedef struct {
    PyObject_HEAD
    Scanner *scanner;
    PyObject *buf;
    Py_ssize_t pos, end;
    int done;
} Scan;

static PyTypeObject ScannerType;
static PyTypeObject ScanType;
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
        if (e != NULL && e->kind == QUIET && same_name(s, a, n, e->attr, e->attr_len))
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
    if (e != NULL && (e->kind == STOP || !is_lower))
        return -1;
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
        return tag(sc, &sc->starts, s, p + 1, end);
    if (c == '/') {
        if (p + 2 >= end)
            return -1;
        if (is_alpha(s[p + 2]))
            return tag(sc, &sc->ends, s, p + 2, end);
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

/* The last token boundary the scan reaches from pos, before end. */
static Py_ssize_t skip(const Scanner *sc, const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    while (p < end) {
        const unsigned char *lt = memchr(s + p, '<', (size_t)(end - p));
        Py_ssize_t q;
        if (lt == NULL)
            return end;
        p = lt - s;
        q = token(sc, s, p, end);
        if (q < 0)
            return p;
        p = q;
    }
    return p;
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

static int fill(Table *t, PyObject *names)
{
    PyObject *it, *o;
    if (names == Py_None) {
        t->all = 1;
        return 0;
    }
    it = PyObject_GetIter(names);
    if (it == NULL)
        return -1;
    while ((o = PyIter_Next(it)) != NULL) {
        Name *e = add(t, o);
        Py_DECREF(o);
        if (e == NULL) {
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
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
    PyObject *it, *o;
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
    it = PyObject_GetIter(widgets);
    if (it == NULL)
        return -1;
    while ((o = PyIter_Next(it)) != NULL) {
        Name *e = add(&sc->starts, o);
        Py_DECREF(o);
        if (e == NULL) {
            Py_DECREF(it);
            return -1;
        }
        e->kind = WIDGET;
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

/* ---- Scanner ---- */

static PyObject *Scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pattern", "starts", "ends", "quiet", "widgets", "classes",
                             "comments", NULL};
    PyObject *pattern, *starts, *ends, *quiet, *widgets, *classes;
    int comments;
    Scanner *sc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOp:Scanner", kwlist, &pattern, &starts,
                                     &ends, &quiet, &widgets, &classes, &comments))
        return NULL;
    sc = (Scanner *)type->tp_alloc(type, 0);
    if (sc == NULL)
        return NULL;
    Py_INCREF(pattern);
    sc->pattern = pattern;
    sc->comments = comments;
    sc->match = PyObject_GetAttrString(pattern, "match");
    if (sc->match == NULL || fill(&sc->starts, starts) < 0 || fill(&sc->ends, ends) < 0 ||
        (!sc->starts.all && fill_quiet(&sc->starts, quiet) < 0) ||
        (!sc->starts.all && fill_widgets(sc, widgets, classes) < 0)) {
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
        skip(sc, (const unsigned char *)PyBytes_AS_STRING(args[0]), pos, end));
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

static PyObject *Scan_next(Scan *it)
{
    PyObject *m, *e, *args[3];
    Py_ssize_t p = it->pos, stop;
    if (it->done)
        return NULL;
    if (p < it->end)
        p = skip(it->scanner, (const unsigned char *)PyBytes_AS_STRING(it->buf), p, it->end);
    args[0] = it->buf;
    args[1] = PyLong_FromSsize_t(p);
    args[2] = PyLong_FromSsize_t(it->end);
    m = (args[1] && args[2]) ? PyObject_Vectorcall(it->scanner->match, args, 3, NULL) : NULL;
    Py_XDECREF(args[1]);
    Py_XDECREF(args[2]);
    if (m == NULL)
        return NULL;
    if (m == Py_None) {
        Py_DECREF(m);
        it->done = 1;
        return NULL;
    }
    e = PyObject_CallMethodNoArgs(m, str_end);
    if (e == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    stop = PyLong_AsSsize_t(e);
    Py_DECREF(e);
    if (stop == -1 && PyErr_Occurred()) {
        Py_DECREF(m);
        return NULL;
    }
    /* After an empty match the gate starts a new scan; finditer would search on. */
    it->done = stop == it->pos;
    it->pos = stop;
    return m;
}

static PyTypeObject ScanType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentgate._speedups.Scan",
    .tp_basicsize = sizeof(Scan),
    .tp_dealloc = (destructor)Scan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Scan_next,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "consentgate._speedups",
    .m_doc = "The compiled front of consentgate's skipper patterns.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *m;
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&ScanType) < 0)
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
    return m;
}
