/* The doctype condition language (engine/metadata/expressions.py), for depends_on in the browser.
   Same grammar and semantics; tests/web/test_expressions_js.py runs both on the same cases. */
(function (root) {
  "use strict";
  var KEYWORDS = { and: 1, or: 1, not: 1, "in": 1, "true": 1, "false": 1, "null": 1 };
  var MAX_DEPTH = 50;

  function ExpressionError(message) { this.message = message; }

  function tokenize(src) {
    var tokens = [], i = 0, m;
    var re = /^(?:(\s+)|(\d+(?:\.\d+)?)(?![A-Za-z0-9_.])|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|<|>|\[|\]|\(|\)|,|\.|-))/;
    while (i < src.length) {
      m = re.exec(src.slice(i));
      if (!m) throw new ExpressionError("unexpected character " + JSON.stringify(src[i]) + " at column " + (i + 1));
      if (m[2] !== undefined) tokens.push({ kind: "num", text: m[2] });
      else if (m[3] !== undefined) tokens.push({ kind: "str", text: unquote(m[3]) });
      else if (m[4] !== undefined) tokens.push({ kind: "name", text: m[4] });
      else if (m[5] !== undefined) tokens.push({ kind: "op", text: m[5] });
      i += m[0].length;
    }
    tokens.push({ kind: "end", text: "" });
    return tokens;
  }

  function unquote(s) {
    var body = s.slice(1, -1), map = { n: "\n", t: "\t", "\\": "\\", "'": "'", '"': '"' };
    return body.replace(/\\(.)/g, function (_, c) {
      if (!(c in map)) throw new ExpressionError("unknown escape \\" + c);
      return map[c];
    });
  }

  function parse(source) {
    var src = source.replace(/^\s*eval:/, ""), tokens = tokenize(src), pos = 0, depth = 0;
    function peek() { return tokens[pos]; }
    function next() { return tokens[pos++]; }
    function accept(kind, text) {
      var t = peek();
      if (t.kind === kind && t.text === text) { pos++; return true; }
      return false;
    }
    function expect(text) { if (!accept("op", text)) throw new ExpressionError("expected " + text); }
    function nest(fn) {
      if (++depth > MAX_DEPTH) throw new ExpressionError("nested too deeply");
      try { return fn(); } finally { depth--; }
    }
    function orExpr() {
      var items = [andExpr()];
      while (accept("name", "or")) items.push(andExpr());
      return items.length === 1 ? items[0] : { t: "or", items: items };
    }
    function andExpr() {
      var items = [notExpr()];
      while (accept("name", "and")) items.push(notExpr());
      return items.length === 1 ? items[0] : { t: "and", items: items };
    }
    function notExpr() {
      if (accept("name", "not")) return nest(function () { return { t: "not", a: notExpr() }; });
      return comparison();
    }
    function compareOp() {
      var t = peek();
      if (t.kind === "op" && ["==", "!=", "<", "<=", ">", ">="].indexOf(t.text) >= 0) { pos++; return t.text; }
      if (t.kind === "name" && t.text === "in") { pos++; return "in"; }
      if (t.kind === "name" && t.text === "not" && tokens[pos + 1].kind === "name" && tokens[pos + 1].text === "in") {
        pos += 2; return "not in";
      }
      return null;
    }
    function comparison() {
      var left = unary(), op = compareOp();
      if (op === null) return left;
      var right = unary();
      if (compareOp() !== null) throw new ExpressionError("comparisons cannot be chained");
      return { t: "cmp", op: op, a: left, b: right };
    }
    function unary() {
      if (accept("op", "-")) return nest(function () { return { t: "neg", a: unary() }; });
      return primary();
    }
    function primary() {
      var t = next();
      if (t.kind === "num") return { t: "lit", v: Number(t.text) };
      if (t.kind === "str") return { t: "lit", v: t.text };
      if (t.kind === "op" && t.text === "(") return nest(function () { var e = orExpr(); expect(")"); return e; });
      if (t.kind === "op" && t.text === "[") {
        return nest(function () {
          var items = [];
          while (!accept("op", "]")) {
            items.push(orExpr());
            if (!accept("op", ",")) { expect("]"); break; }
          }
          return { t: "list", items: items };
        });
      }
      if (t.kind === "name") {
        if (t.text === "true") return { t: "lit", v: true };
        if (t.text === "false") return { t: "lit", v: false };
        if (t.text === "null") return { t: "lit", v: null };
        if ((t.text === "doc" || t.text === "user") && accept("op", ".")) {
          var n = next();
          if (n.kind !== "name" || n.text.slice(0, 2) === "__") throw new ExpressionError("expected a name");
          return { t: t.text === "user" ? "user" : "field", n: n.text };
        }
        if (KEYWORDS[t.text] || t.text.slice(0, 2) === "__") throw new ExpressionError("unexpected " + t.text);
        return { t: "field", n: t.text };
      }
      throw new ExpressionError("unexpected " + (t.text || "end of expression"));
    }
    var tree = orExpr();
    if (peek().kind !== "end") throw new ExpressionError("unexpected " + peek().text);
    return tree;
  }

  function truthy(v) {
    if (Array.isArray(v)) return v.length > 0;
    return !(v === null || v === undefined || v === false || v === 0 || v === "");
  }
  function isNum(v) { return typeof v === "number" || typeof v === "boolean"; }
  function equal(a, b) {
    if (a === undefined) a = null;
    if (b === undefined) b = null;
    if (isNum(a) && isNum(b)) return Number(a) === Number(b);
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every(function (x, i) { return equal(x, b[i]); });
    }
    return a === b;
  }
  function order(op, a, b) {
    if (a === null || a === undefined || b === null || b === undefined) return false;
    var ok = (isNum(a) && isNum(b)) || (typeof a === "string" && typeof b === "string");
    if (!ok) return false;
    if (isNum(a)) { a = Number(a); b = Number(b); }
    return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
  }
  function contains(item, container) {
    if (Array.isArray(container)) return container.some(function (x) { return equal(item, x); });
    if (typeof container === "string") return typeof item === "string" && container.indexOf(item) >= 0;
    return false;
  }

  function evaluate(node, doc, user) {
    switch (node.t) {
      case "lit": return node.v;
      case "field": return doc[node.n] === undefined ? null : doc[node.n];
      case "user": return user[node.n] === undefined ? null : user[node.n];
      case "list": return node.items.map(function (i) { return evaluate(i, doc, user); });
      case "neg": var v = evaluate(node.a, doc, user); return typeof v === "number" ? -v : null;
      case "not": return !truthy(evaluate(node.a, doc, user));
      case "and": return node.items.every(function (i) { return truthy(evaluate(i, doc, user)); });
      case "or": return node.items.some(function (i) { return truthy(evaluate(i, doc, user)); });
      case "cmp":
        var a = evaluate(node.a, doc, user), b = evaluate(node.b, doc, user);
        if (node.op === "==") return equal(a, b);
        if (node.op === "!=") return !equal(a, b);
        if (node.op === "in") return contains(a, b);
        if (node.op === "not in") return !contains(a, b);
        return order(node.op, a, b);
    }
    throw new ExpressionError("bad node");
  }

  var cache = {};
  function check(source, doc, user) {
    var tree = cache[source] || (cache[source] = parse(source));
    return truthy(evaluate(tree, doc || {}, user || {}));
  }
  var api = { check: check, parse: parse, ExpressionError: ExpressionError };
  if (typeof module !== "undefined" && module.exports) module.exports = api; else root.DocframeExpressions = api;
})(this);
