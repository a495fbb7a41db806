/* docframe desk: progressive enhancement. Every page works without it; this adds type-ahead,
   editable grids, depends_on, confirmations and keyboard shortcuts. */
(function () {
  "use strict";
  var NUMERIC = { int: 1, float: 1, currency: 1, percent: 1, check: 1 };

  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // ------------------------------------------------------------ navigation and shortcuts
  $$("[data-nav-toggle]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var nav = document.getElementById("sidebar");
      var open = nav.classList.toggle("open");
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  document.addEventListener("keydown", function (ev) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName);
    if (ev.key === "/" && !typing) {
      var q = document.querySelector("[data-hotkey='/']");
      if (q) { ev.preventDefault(); q.focus(); }
    } else if (ev.key === "n" && !typing && !ev.ctrlKey && !ev.metaKey) {
      var add = document.querySelector("[data-hotkey='n']");
      if (add) add.click();
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key === "s") {
      var save = document.querySelector("[data-hotkey='ctrl+s']");
      if (save) { ev.preventDefault(); save.click(); }
    }
  });

  // Lists: arrow keys move between rows. Grids: Alt+arrow keys move to the same cell of the next or previous row.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    var step = ev.key === "ArrowDown" ? 1 : -1, el = ev.target;
    if (el.classList && el.classList.contains("list-link")) {
      var links = $$("table.list-table a.list-link"), i = links.indexOf(el);
      if (links[i + step]) { ev.preventDefault(); links[i + step].focus(); }
      return;
    }
    var cell = ev.altKey && el.closest && el.closest("table.grid td");
    if (!cell) return;
    var row = cell.parentNode, rows = $$("tr.grid-row", row.parentNode), col = Array.prototype.indexOf.call(row.cells, cell);
    var target = rows[rows.indexOf(row) + step];
    var input = target && target.cells[col] && target.cells[col].querySelector("input:not([type=hidden]), select, textarea");
    if (input) { ev.preventDefault(); input.focus(); }
  });

  // ------------------------------------------------------------ confirmations
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && el.tagName === "BUTTON" && !window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
  });
  $$("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });
  $$("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      $$("input[name=names]", box.closest("form")).forEach(function (b) { b.checked = box.checked; });
    });
  });

  // ------------------------------------------------------------ trees
  $$(".tree-toggle").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var li = btn.closest("li"), open = li.getAttribute("aria-expanded") === "true";
      li.setAttribute("aria-expanded", open ? "false" : "true");
      btn.setAttribute("aria-label", (open ? "Expand " : "Collapse ") + li.querySelector("a").textContent);
    });
  });

  // ------------------------------------------------------------ link type-ahead
  function linkDoctype(input) {
    if (input.dataset.linkDoctype) return input.dataset.linkDoctype;
    var from = input.dataset.linkDoctypeFrom && document.querySelector("[name='" + input.dataset.linkDoctypeFrom + "']");
    return from ? from.value : "";
  }
  function attachLink(input) {
    var list = input.parentNode.querySelector(".link-options"), timer = null, active = -1, asked = 0;
    if (!list) {
      list = document.createElement("ul");
      list.className = "link-options"; list.hidden = true; list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", "Matching records");
      list.id = (input.id || input.name) + "-options";
      input.parentNode.style.position = "relative";
      input.parentNode.appendChild(list);
      input.setAttribute("role", "combobox"); input.setAttribute("aria-controls", list.id);
      input.setAttribute("aria-autocomplete", "list"); input.setAttribute("aria-expanded", "false");
    }
    function close() { list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false"); }
    function choose(li) {
      input.value = li.dataset.value; close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function highlight(i) {
      var items = $$("li", list);
      items.forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      if (items[i]) input.setAttribute("aria-activedescendant", items[i].id);
    }
    function search() {
      var doctype = linkDoctype(input), ticket = ++asked;
      if (!doctype) return;
      fetch("/app/-/link?doctype=" + encodeURIComponent(doctype) + "&q=" + encodeURIComponent(input.value),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (ticket !== asked) return;  // an older answer arriving late: a newer search is on its way
          list.innerHTML = "";
          data.results.forEach(function (opt, i) {
            var li = document.createElement("li");
            li.id = list.id + "-" + i; li.setAttribute("role", "option"); li.dataset.value = opt.value;
            var main = document.createElement("span");
            main.textContent = opt.value + (opt.title && opt.title !== opt.value ? " · " + opt.title : "");
            li.appendChild(main);
            if (opt.details.length) {
              var d = document.createElement("span"); d.className = "details"; d.textContent = opt.details.join(" · ");
              li.appendChild(d);
            }
            li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(li); });
            list.appendChild(li);
          });
          list.hidden = data.results.length === 0;
          input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
          active = -1;
        });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 150); });
    input.addEventListener("focus", function () { if (!input.readOnly) search(); });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("keydown", function (ev) {
      var items = $$("li", list);
      if (list.hidden || !items.length) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(items[active]); }
      else if (ev.key === "Escape") { close(); }
    });
  }
  function attachLinks(root) {
    $$("input[data-link-doctype], input[data-link-doctype-from]", root).forEach(function (i) {
      if (!i.readOnly && !i.dataset.linkReady) { i.dataset.linkReady = "1"; attachLink(i); }
    });
  }
  attachLinks(document);

  // ------------------------------------------------------------ editable grids
  var ROW_PART = /^(f-)?([^-]+)-(\d+|__i__)-/;
  function renumber(tbody) {
    $$("tr.grid-row", tbody).forEach(function (tr, k) {
      var i = String(k + 1), fix = function (v) { return v.replace(ROW_PART, "$1$2-" + i + "-"); };
      tr.querySelector("td.idx").firstChild.nodeValue = i;
      $$("[name]", tr).forEach(function (el) { el.name = fix(el.name); });
      $$("[id]", tr).forEach(function (el) { el.id = fix(el.id); });
      $$("label[for]", tr).forEach(function (el) { el.htmlFor = fix(el.htmlFor); });
      ["aria-controls", "aria-describedby", "data-link-doctype-from"].forEach(function (attr) {
        $$("[" + attr + "]", tr).forEach(function (el) { el.setAttribute(attr, fix(el.getAttribute(attr))); });
      });
    });
  }
  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-grid-add]");
    if (add) {
      var table = add.closest(".grid-field").querySelector("table.grid");
      var tbody = table.tBodies[0], tpl = table.querySelector("template.grid-template");
      var row = tpl.content.firstElementChild.cloneNode(true);
      tbody.appendChild(row);
      renumber(tbody);
      attachLinks(row);
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
      return;
    }
    var btn = ev.target.closest(".grid-remove, .grid-up, .grid-down");
    if (!btn) return;
    var tr = btn.closest("tr"), body = tr.parentNode;
    if (btn.classList.contains("grid-remove")) {
      var err = tr.nextElementSibling;
      if (err && err.classList.contains("row-error")) err.remove();
      tr.remove();
    } else if (btn.classList.contains("grid-up") && tr.previousElementSibling) {
      body.insertBefore(tr, tr.previousElementSibling);
    } else if (btn.classList.contains("grid-down") && tr.nextElementSibling) {
      body.insertBefore(tr.nextElementSibling, tr);
    }
    renumber(body);
    btn.focus();
  });

  // ------------------------------------------------------------ depends_on / mandatory_depends_on
  var form = document.getElementById("doc-form");
  if (form && window.DocframeExpressions) {
    var conditions = JSON.parse(form.dataset.conditions || "{}"), user = { name: form.dataset.user };
    var values = function () {
      var out = {};
      $$(".column > .field[data-field]", form).forEach(function (box) {
        var name = box.dataset.field, widget = (box.className.match(/w-(\w+)/) || [])[1];
        var inputs = $$("[name='" + name + "']", box);
        if (!inputs.length) return;
        var el = inputs[inputs.length - 1], v = el.type === "checkbox" ? (el.checked ? 1 : 0) : el.value;
        if (NUMERIC[widget] && v !== "" && !isNaN(Number(v))) v = Number(v);
        out[name] = v === "" ? null : v;
      });
      return out;
    };
    var apply = function () {
      var doc = values();
      Object.keys(conditions).forEach(function (name) {
        var c = conditions[name], box = form.querySelector(".field[data-field='" + name + "']");
        if (!box) return;
        try {
          if (c.depends_on) box.hidden = !window.DocframeExpressions.check(c.depends_on, doc, user);
          if (c.mandatory_depends_on) {
            var need = window.DocframeExpressions.check(c.mandatory_depends_on, doc, user);
            box.classList.toggle("required", need);
            var label = box.querySelector("label");
            if (label && need && !label.querySelector(".req")) {
              var mark = document.createElement("span"); mark.className = "req"; mark.textContent = " *";
              mark.setAttribute("aria-hidden", "true"); label.appendChild(mark);
            } else if (label && !need && !box.querySelector("[required]")) {
              var m = label.querySelector(".req"); if (m) m.remove();
            }
          }
        } catch (e) { box.hidden = false; }
      });
    };
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    apply();
  }

  // ------------------------------------------------------------ values the server fills in while editing
  // A form with data-refresh-on (from the app's form_context) posts itself to /app/<doctype>/-/refresh
  // when one of those fields changes, and shows what the hooks filled in: only in inputs that are empty
  // or still hold what an earlier refresh put there, so nothing the user typed is overwritten.
  if (form && form.dataset.refreshOn) {
    var watched = form.dataset.refreshOn.split(" ").map(function (w) {
      var p = w.split(".");
      return p.length === 1 ? new RegExp("^" + p[0] + "$") : new RegExp("^" + p[0] + "-\\d+-" + p[1] + "$");
    });
    var refreshUrl = location.pathname.split("/").slice(0, 3).join("/") + "/-/refresh";
    var timer = null, put = function (input, value) {
      if (!input || input.type === "hidden" || input.type === "checkbox" || value === null) return;
      if (input.value === "" || input.dataset.filled === input.value) {
        input.value = value;
        input.dataset.filled = input.value;
      }
    };
    var refresh = function () {
      fetch(refreshUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          Object.keys(data.values).forEach(function (k) { put(form.querySelector("[name='" + k + "']"), data.values[k]); });
          Object.keys(data.rows).forEach(function (t) {
            data.rows[t].forEach(function (row, i) {
              Object.keys(row).forEach(function (f) {
                put(form.querySelector("[name='" + t + "-" + (i + 1) + "-" + f + "']"), row[f]);
              });
            });
          });
          form.dataset.refreshed = String(Number(form.dataset.refreshed || 0) + 1);
        })
        .catch(function () { /* the save still fills everything in */ });
    };
    var changed = function (ev) {
      var name = ev.target && ev.target.name;
      if (!name || !watched.some(function (re) { return re.test(name); })) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    };
    form.addEventListener("change", changed);
    form.addEventListener("input", changed);
  }

  // A new document's form starts in its first field (or the first one with an error), ready to type.
  var docForm = document.getElementById("doc-form");
  if (docForm && (docForm.hasAttribute("data-new") || docForm.querySelector(".has-error")) &&
      (!document.activeElement || document.activeElement === document.body)) {
    var first = $$(".has-error input, .has-error select, .has-error textarea", docForm)[0] ||
      $$("input, select, textarea", docForm).filter(function (el) {
        return el.type !== "hidden" && !el.readOnly && !el.disabled && el.offsetParent !== null;
      })[0];
    if (first) first.focus();
  }
})();
