// Search box of the published pages: Pagefind's index (built by `policy build` into pagefind/),
// searched in the page's own language. No inline script or style: the page's
// Content-Security-Policy allows scripts from the site itself, and WebAssembly ('wasm-unsafe-eval').
// Results are built as DOM nodes from text (never from HTML strings), so no indexed text can run.
(function () {
  "use strict";
  var box = document.querySelector("[data-search]");
  if (!box || !window.fetch || !window.WebAssembly) { return; }
  var form = box.querySelector("form");
  var input = box.querySelector("input");
  var status = box.querySelector("[role=status]");
  var list = box.querySelector("ol");
  var bundle = new URL(box.getAttribute("data-search"), document.baseURI);
  var siteRoot = new URL("../", bundle);
  var messages = {
    none: box.getAttribute("data-msg-none"), one: box.getAttribute("data-msg-one"),
    many: box.getAttribute("data-msg-many"), failed: box.getAttribute("data-msg-failed")
  };
  var pagefind = null, timer = null, generation = 0;
  box.hidden = false;

  // The index is in shards (see render/search.py): shards.json lists each language's; the first
  // one holds Pagefind's script, the others are merged into it and ranked with it.
  function load() {
    if (!pagefind) {
      var lang = document.documentElement.lang;
      pagefind = fetch(new URL("shards.json", bundle).href, { cache: "no-cache" }).then(function (response) {
        if (!response.ok) { throw new Error("no search index"); }
        return response.json();
      }).then(function (shards) {
        var mine = shards[lang] || [];
        if (!mine.length) { throw new Error("no search index for " + lang); }
        var dirs = mine.map(function (name) { return new URL(name + "/", bundle); });
        return import(new URL("pagefind.js", dirs[0]).href).then(function (pf) {
          return pf.options({ baseUrl: siteRoot.pathname }).then(function () {
            return Promise.all(dirs.slice(1).map(function (dir) {
              return pf.mergeIndex(dir.pathname, { baseUrl: siteRoot.pathname, language: lang });
            }));
          }).then(function () { return pf; });
        });
      }).catch(function (error) {
        pagefind = null;  // tried again at the next search
        throw error;
      });
    }
    return pagefind;
  }

  // Pagefind's excerpt marks the matched words with <mark>; keep exactly that, as text.
  function excerpt(html) {
    var p = document.createElement("p");
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    doc.body.childNodes.forEach(function (node) {
      if (node.nodeType === 1 && node.tagName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        p.appendChild(mark);
      } else {
        p.appendChild(document.createTextNode(node.textContent));
      }
    });
    return p;
  }

  function item(title, url, text) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = url;  // a clause's heading carries the clause's own id: Pagefind's sub-result is the clause
    a.textContent = title;
    li.appendChild(a);
    if (text) { li.appendChild(excerpt(text)); }
    return li;
  }

  function show(results, query) {
    list.textContent = "";
    results.forEach(function (r) {
      var subs = (r.sub_results || []).filter(function (s) { return s.url.indexOf("#") > 0; });
      if (subs.length === 0) {
        list.appendChild(item(r.meta.title, r.url, r.excerpt));
      }
      subs.slice(0, 3).forEach(function (s) {
        list.appendChild(item(s.title + " · " + r.meta.title, s.url, s.excerpt));
      });
    });
    var n = list.children.length;
    status.textContent = (n === 0 ? messages.none : n === 1 ? messages.one : messages.many)
      .replace("{query}", query).replace("{count}", String(n));
  }

  function search() {
    var query = input.value.trim();
    var mine = ++generation;
    if (!query) { list.textContent = ""; status.textContent = ""; return; }
    load().then(function (pf) { return pf.search(query); }).then(function (found) {
      return Promise.all(found.results.slice(0, 8).map(function (r) { return r.data(); }));
    }).then(function (results) {
      if (mine === generation) { show(results, query); }
    }).catch(function () {
      if (mine === generation) { status.textContent = messages.failed; }
    });
  }

  // the index starts loading when the box is focused, before the first word is typed
  input.addEventListener("focus", function () { load().catch(function () {}); }, { once: true });
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    search();
    var first = list.querySelector("a");
    if (first) { first.focus(); }
  });
  // Keyboard: Down from the box or a result moves to the next result, Up to the previous one
  // (or back to the box), Escape clears the search and returns to the box.
  box.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? input : links[at - 1]).focus();
    } else if (event.key === "Escape") {
      input.value = "";
      list.textContent = "";
      status.textContent = "";
      input.focus();
    }
  });
})();
