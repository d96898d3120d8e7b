/* 法治新闻标注 — the page for people. Vanilla JS, no build step, no external assets.
 *
 * Safety: every piece of text (the pasted page, titles, evidence terms, error messages) reaches
 * the DOM through document.createTextNode / textContent. Nothing is ever assigned to innerHTML.
 * Highlights are built from character ranges of the article text, not by inserting markup.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "legalTagger.adminToken";
  var PALETTE_SIZE = 8;
  var NEAR = 0.1;        // a score this close below its threshold is shown as 接近
  var KIND_NAMES = { words: "词", chars: "字串", cues: "线索" };

  var state = {
    labels: [],          // label ids in taxonomy order
    names: {},           // id -> Chinese name
    definitions: {},     // id -> definition
    colour: {},          // id -> palette index
    meta: null,          // model.json of the model that answered last
    metaVersion: null,
    active: null,
    splitTouched: false,
    controller: null,
    lastText: null,
  };

  function $(id) { return document.getElementById(id); }

  /* ---------------------------------------------------------------- DOM helpers (no innerHTML) */

  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === undefined || value === null || value === false) return;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "dataset") Object.keys(value).forEach(function (k) { node.dataset[k] = value[k]; });
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else if (key in { checked: 1, disabled: 1, hidden: 1, value: 1, type: 1, htmlFor: 1, title: 1, id: 1 }) node[key] = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fmt(x, digits) {
    return typeof x === "number" && isFinite(x) ? x.toFixed(digits === undefined ? 2 : digits) : "—";
  }

  function labelName(id) { return state.names[id] || id; }

  function colourClass(id) {
    if (!(id in state.colour)) {
      var used = Object.keys(state.colour).length;
      state.colour[id] = used % PALETTE_SIZE;  // taxonomy order (GET /labels), then first seen
    }
    return "lab-" + state.colour[id];
  }

  /* ---------------------------------------------------------------- API */

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function api(path, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    var init = { method: options.method || "GET", headers: headers, signal: options.signal, credentials: "same-origin" };
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    var bearer = options.token !== undefined ? options.token : token();
    if (bearer) headers.Authorization = "Bearer " + bearer;
    return fetch(path, init).then(function (response) {
      return response.text().then(function (body) {
        var data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
        var message = null;
        if (!response.ok) {
          message = data && data.error && data.error.message ? data.error.message : "HTTP " + response.status;
        }
        return { ok: response.ok, status: response.status, data: data, message: message,
                 code: data && data.error ? data.error.code : null };
      });
    });
  }

  /* ---------------------------------------------------------------- labels, model, legend */

  function loadLabels() {
    return api("/labels", { token: "" }).then(function (res) {
      if (!res.ok || !res.data) return;
      state.labels = [];  // the active model's label set: a new model may add or drop labels
      res.data.labels.forEach(function (label) {
        state.labels.push(label.id);
        state.names[label.id] = label.name || label.id;
        state.definitions[label.id] = label.definition || "";
        colourClass(label.id);
      });
      renderLegend();
    });
  }

  function renderLegend() {
    var legend = $("legend");
    clear(legend);
    append(legend, el("span", { class: "legend-title", text: "标签" }));
    state.labels.forEach(function (id) {
      append(legend, el("span", { class: "chip " + colourClass(id), title: labelTip(id), dataset: { label: id } },
        el("span", { class: "swatch", "aria-hidden": "true" }), labelName(id)));
    });
    append(legend, el("span", { class: "legend-note", text: "正文中同色底纹为该标签的证据词" }));
    legend.hidden = false;
  }

  function loadModels() {
    return api("/models", { token: "" }).then(function (res) {
      if (res.ok && res.data && !res.data.active) { renderNoModel(); return; }
      if (!res.ok || !res.data) { renderModelInfo(null, "无法读取模型信息（" + res.status + "）"); return; }
      state.active = res.data.active;
      return loadMeta(res.data.active);
    }).catch(function () { renderModelInfo(null, "无法读取模型信息"); });
  }

  function loadMeta(version) {
    return api("/models/" + encodeURIComponent(version), { token: "" }).then(function (res) {
      state.meta = res.ok && res.data ? res.data : { version: version };
      state.metaVersion = version;
      if (!state.meta.version) state.meta.version = version;
      var names = state.meta.label_names || {};
      Object.keys(names).forEach(function (id) { if (!state.names[id]) state.names[id] = names[id]; });
      (state.meta.labels || []).forEach(function (id) { colourClass(id); });
      renderModelInfo(state.meta);
    });
  }

  function renderNoModel() {
    state.meta = null;
    var box = $("model-info");
    clear(box);
    append(box, el("span", { class: "warn", text: "没有加载模型" }));
    $("about-btn").hidden = true;
    $("about").hidden = true;
    $("no-model").hidden = false;
  }

  function num(x) { return typeof x === "number" && isFinite(x) ? x : null; }

  // The share of hand-labelled real articles (metrics.gold: the gold sets bench/record_gold.py
  // scored) whose tags were exactly right, pooled over the sets; null when none is recorded.
  function goldExact(metrics) {
    var gold = metrics && metrics.gold;
    if (!gold || typeof gold !== "object") return null;
    var n = 0, right = 0;
    Object.keys(gold).forEach(function (name) {
      var g = gold[name] || {};
      if (num(g.n) && num(g.exact_set_accuracy) !== null) { n += g.n; right += g.n * g.exact_set_accuracy; }
    });
    return n ? { n: n, share: right / n } : null;
  }

  function day(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
    return m ? m[1] + "-" + m[2] + "-" + m[3] : null;
  }

  function renderModelInfo(meta, problem) {
    var box = $("model-info");
    clear(box);
    $("no-model").hidden = true;
    if (!meta) { append(box, el("span", { class: "warn", text: problem || "没有模型" })); $("about-btn").hidden = true; return; }
    var date = day(meta.created);
    append(box, el("span", { class: "model-date", title: "模型版本 " + meta.version },
      date ? ["模型 ", el("time", { datetime: meta.created, text: date })] : ["模型 ", el("code", { text: meta.version })]));
    var gold = goldExact(meta.metrics);
    if (gold) {
      append(box, el("span", { class: "quality", dataset: { share: gold.share.toFixed(4) } },
        "在人工标注的真实新闻上，" + Math.round(gold.share * 100) + "% 的文章标签完全正确"));
    }
    $("about-btn").hidden = false;
    renderAbout(meta, gold);
  }

  function renderAbout(meta, gold) {
    var about = $("about");
    clear(about);
    var metrics = meta.metrics || {};
    var training = meta.training || {};
    var rows = [];
    function row(name, report, note) {
      if (!report || typeof report !== "object") return;
      rows.push(el("tr", null, el("th", { scope: "row", text: name }), el("td", { text: num(report.n) !== null ? String(report.n) : "—" }),
        el("td", { text: num(report.exact_set_accuracy) !== null ? Math.round(report.exact_set_accuracy * 1000) / 10 + "%" : "—" }),
        el("td", { text: fmt(num(report.macro_f1), 3) }), el("td", { class: "note", text: note || "" })));
    }
    if (metrics.gold && typeof metrics.gold === "object") {
      Object.keys(metrics.gold).forEach(function (name) { row("金标 " + name, metrics.gold[name], "人工标注的真实新闻，未参与训练"); });
    }
    row("留出集", metrics.held_out, "训练数据中留出未训练的部分");
    row("交叉验证", metrics.cv, "训练语料上的交叉验证");
    var cut = meta.thresholds || {};
    var ids = (meta.labels && meta.labels.length ? meta.labels : state.labels).filter(function (id) { return typeof cut[id] === "number"; });
    append(about, [
      el("h2", { text: "关于模型" }),
      gold ? el("p", { class: "about-lead" }, "在 " + gold.n + " 篇人工标注的真实新闻上，" + (Math.round(gold.share * 1000) / 10) +
        "% 的文章标签完全正确（给出的标签与人工标注一致，不多也不少）。")
           : el("p", { class: "about-lead muted", text: "这个模型还没有在人工标注的真实新闻上评测过（运行 bench/record_gold.py 记录）。" }),
      el("dl", { class: "about-facts" },
        el("dt", { text: "版本" }), el("dd", null, el("code", { text: meta.version })),
        el("dt", { text: "训练时间" }), el("dd", { text: meta.created ? String(meta.created).replace("T", " ").replace("+00:00", " UTC") : "—" }),
        el("dt", { text: "训练数据" }), el("dd", { text: (num(training.rows) !== null ? training.rows + " 篇" : "—") + (training.file ? "（" + training.file + "）" : "") })),
      rows.length ? el("div", { class: "scroll" }, el("table", { class: "about-metrics" },
        el("thead", null, el("tr", null, ["评测集", "文章数", "完全正确", "macro-F1", "说明"].map(function (h) { return el("th", { scope: "col", text: h }); }))),
        el("tbody", null, rows))) : el("p", { class: "muted", text: "没有记录评测指标。" }),
      ids.length ? el("p", { class: "about-thresholds" }, "阈值（分数达到即给出该标签）：",
        ids.map(function (id, k) { return [k ? "、" : "", labelName(id) + " " + fmt(cut[id])]; })) : null,
      el("p", { class: "note", text: "macro-F1 是各标签 F1（查准与查全的调和平均）的平均值。" })]);
  }

  function thresholds() {
    return (state.meta && state.meta.thresholds) || {};
  }

  // "definition\n阈值 0.25": the tooltip of a label (legend and result chips).
  function labelTip(id, score) {
    var t = thresholds()[id];
    return labelName(id) + "：" + (state.definitions[id] || "（无定义）") +
      (typeof t === "number" ? "\n阈值 " + fmt(t) : "") + (typeof score === "number" ? " · 本文分数 " + fmt(score) : "");
  }

  /* ---------------------------------------------------------------- highlighting by character ranges */

  // A view of s without whitespace, NFKC-folded and lower-cased (what the model's terms look
  // like), with the original [start, end) of each of its UTF-16 units.
  function fold(s) {
    var units = [], starts = [], ends = [];
    for (var i = 0; i < s.length;) {
      var cp = s.codePointAt(i);
      var ch = String.fromCodePoint(cp);
      var next = i + ch.length;
      if (!/\s/.test(ch)) {
        var f = ch.normalize("NFKC").toLowerCase();
        for (var k = 0; k < f.length; k++) { units.push(f[k]); starts.push(i); ends.push(next); }
      }
      i = next;
    }
    return { text: units.join(""), starts: starts, ends: ends };
  }

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // Where a term occurs in folded text: [[start, end), ...]. The tokenizer folds ASCII digit runs
  // to "<num>", so such a term matches any digits there ("月<num>" matches "月17").
  function occurrences(folded, term) {
    var needle = fold(term).text;
    var found = [];
    if (!needle) return found;
    if (needle.indexOf("<num>") < 0) {
      for (var at = folded.indexOf(needle); at >= 0; at = folded.indexOf(needle, at + 1)) found.push([at, at + needle.length]);
      return found;
    }
    var re = new RegExp(needle.split("<num>").map(escapeRegExp).join("[0-9]+"), "g");
    for (var m = re.exec(folded); m; m = re.exec(folded)) {
      found.push([m.index, m.index + m[0].length]);
      re.lastIndex = m.index + 1;
    }
    return found;
  }

  function shownTerm(term) { return String(term).replace(/<num>/g, "〈数字〉"); }

  // For each returned label, every occurrence of its evidence terms in s: [{start, end, label, term, weight}].
  function evidenceRanges(s, labels, explain) {
    var folded = fold(s);
    var ranges = [];
    labels.forEach(function (label) {
      (explain && explain[label] || []).forEach(function (item) {
        occurrences(folded.text, item.term || "").forEach(function (hit) {
          ranges.push({ start: folded.starts[hit[0]], end: folded.ends[hit[1] - 1],
                        label: label, term: shownTerm(item.term), weight: item.weight || 0 });
        });
      });
    });
    return ranges;
  }

  // Text nodes and <mark> elements for s: each character takes the strongest range covering it.
  function highlighted(s, ranges) {
    var owner = new Array(s.length);
    ranges.forEach(function (r) {
      for (var i = r.start; i < r.end; i++) {
        if (!owner[i] || owner[i].weight < r.weight) owner[i] = r;
      }
    });
    var nodes = [];
    var i = 0;
    while (i < s.length) {
      var j = i + 1;
      while (j < s.length && owner[j] === owner[i]) j++;
      var piece = s.slice(i, j);
      var r = owner[i];
      if (r) {
        nodes.push(el("mark", { class: "hl " + colourClass(r.label), dataset: { label: r.label },
          title: labelName(r.label) + "：" + r.term + "（权重 " + fmt(r.weight, 3) + "）" }, piece));
      } else {
        nodes.push(document.createTextNode(piece));
      }
      i = j;
    }
    return nodes;
  }

  /* ---------------------------------------------------------------- cards */

  // A label chip: a button whose title is the tooltip; a tap/click opens the same text in the card.
  function chip(label, score, near, tip) {
    var button = el("button", { type: "button", class: "chip tag " + colourClass(label) + (near ? " near" : ""),
                                dataset: { label: label }, title: labelTip(label, score), "aria-expanded": "false" },
      el("span", { class: "swatch", "aria-hidden": "true" }),
      labelName(label) + " ", near ? el("span", { class: "near-word", text: "接近 " }) : null,
      el("span", { class: "score", text: fmt(score) }));
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") === "true";
      Array.prototype.forEach.call(button.parentNode.querySelectorAll(".chip[aria-expanded]"), function (b) { b.setAttribute("aria-expanded", "false"); });
      clear(tip);
      tip.hidden = open;
      if (open) return;
      button.setAttribute("aria-expanded", "true");
      var t = thresholds()[label];
      append(tip, [el("b", { text: labelName(label) }), "：", state.definitions[label] || "（无定义）",
        el("span", { class: "tip-numbers", text: "本文分数 " + fmt(score) + (typeof t === "number" ? "，阈值 " + fmt(t) +
          (near ? "（差 " + fmt(t - score) + "，未给出）" : "") : "") })]);
    });
    return button;
  }

  // Labels given, then labels whose score is just under the threshold (within NEAR).
  function chipRow(article) {
    var labels = article.labels || [], scores = article.scores || {}, cut = thresholds();
    var near = Object.keys(scores).filter(function (id) {
      var t = cut[id];
      return labels.indexOf(id) < 0 && typeof t === "number" && scores[id] < t && scores[id] >= t - NEAR;
    }).sort(function (a, b) { return scores[b] - scores[a]; });
    var tip = el("p", { class: "chip-tip", role: "note", hidden: true });
    var row = el("div", { class: "chips" },
      labels.map(function (l) { return chip(l, scores[l], false, tip); }),
      labels.length ? null : el("span", { class: "chip none", text: "无标签" }),
      near.map(function (l) { return chip(l, scores[l], true, tip); }));
    return [row, tip];
  }

  function scoreBars(scores) {
    var cut = thresholds();
    var ids = state.labels.filter(function (id) { return id in scores; });
    Object.keys(scores).forEach(function (id) { if (ids.indexOf(id) < 0) ids.push(id); });
    ids.sort(function (a, b) { return scores[b] - scores[a]; });
    return el("div", { class: "scores", "aria-label": "全部分数" },
      ids.map(function (id) {
        var s = scores[id];
        var t = cut[id];
        var over = typeof t === "number" ? s >= t : null;
        var fill = el("span", { class: "bar-fill " + (over === false ? "below" : colourClass(id)) });
        fill.style.width = Math.max(0, Math.min(100, s * 100)).toFixed(1) + "%";
        var track = el("span", { class: "bar", role: "img",
          "aria-label": labelName(id) + " " + fmt(s) + (typeof t === "number" ? "，阈值 " + fmt(t) : "") }, fill);
        if (typeof t === "number") {
          var marker = el("span", { class: "bar-threshold", title: "阈值 " + fmt(t) });
          marker.style.left = Math.max(0, Math.min(100, t * 100)).toFixed(1) + "%";
          append(track, marker);
        }
        return el("div", { class: "score-row" + (over ? " over" : ""), dataset: { label: id } },
          el("span", { class: "score-name", text: labelName(id) }),
          track,
          el("span", { class: "score-value" }, fmt(s), " ",
            el("small", { text: typeof t === "number" ? (over ? "≥ " : "< ") + fmt(t) : "阈值未知" })));
      }));
  }

  function evidenceList(labels, explain) {
    var rows = labels.filter(function (l) { return explain && explain[l] && explain[l].length; });
    if (!rows.length) return null;
    return el("details", { class: "evidence" },
      el("summary", { text: "证据词" }),
      el("ul", null, rows.map(function (label) {
        return el("li", null, el("b", { text: labelName(label) + "：" }),
          explain[label].map(function (item, k) {
            return [k ? "、" : "", el("span", { class: "term " + colourClass(label),
              title: (KIND_NAMES[item.kind] || item.kind) + "，权重 " + fmt(item.weight, 3), text: shownTerm(item.term) })];
          }));
      })));
  }

  function entitiesBlock(entities) {
    if (!entities) return null;
    var inst = entities.institutions || [], places = entities.places || [];
    return el("dl", { class: "entities" },
      el("dt", { text: "机构" }), el("dd", { text: inst.length ? inst.join("、") : "—" }),
      el("dt", { text: "地点" }), el("dd", { text: places.length ? places.join("、") : "—" }));
  }

  function classifyText(article) {
    return article.title ? article.title + "\n" + article.text : article.text;
  }

  function correctionForm(article, index) {
    var result = el("span", { class: "fb-result", role: "status", "aria-live": "polite" });
    var boxes = state.labels.map(function (id) {
      return el("label", { class: "fb-option" },
        el("input", { type: "checkbox", value: id, checked: article.labels.indexOf(id) >= 0, name: "fb-" + index }),
        " " + labelName(id));
    });
    var button = el("button", { type: "button", class: "secondary small fb-submit", text: "提交更正" });
    button.addEventListener("click", function () {
      var chosen = boxes.map(function (b) { return b.querySelector("input"); })
        .filter(function (input) { return input.checked; })
        .map(function (input) { return input.value; });
      submitFeedback(classifyText(article), chosen, button, result);
    });
    return el("fieldset", { class: "correct" }, el("legend", { text: "更正标签" }),
      el("div", { class: "fb-options" }, boxes), el("div", { class: "fb-actions" }, button, result));
  }

  function submitFeedback(text, labels, button, result) {
    result.className = "fb-result";
    var bearer = $("admin-token").value.trim();
    if (!bearer) {
      result.classList.add("error");
      result.textContent = "请先在“令牌”处填入管理令牌";
      $("token-box").open = true;
      $("admin-token").focus();
      return;
    }
    button.disabled = true;
    result.textContent = "正在提交…";
    api("/feedback", { method: "POST", json: { text: text, labels: labels }, token: bearer }).then(function (res) {
      if (res.ok) {
        result.classList.add("ok");
        var what = labels.length ? labels.map(labelName).join("、") : "无标签";
        result.textContent = (res.status === 201 ? "已保存更正：" : "已更新此前的更正：") + what;
      } else {
        result.classList.add("error");
        result.textContent = "提交失败（" + res.status + "）：" + res.message;
      }
    }).catch(function (err) {
      result.classList.add("error");
      result.textContent = "提交失败：" + (err && err.message ? err.message : "网络错误");
    }).then(function () { button.disabled = false; });
  }

  function card(article, index) {
    var isCaption = article.kind === "caption";
    var labels = article.labels || [];
    var titleText = article.title || "";
    var heading = el("h2", { class: "card-title" });
    if (titleText) append(heading, highlighted(titleText, evidenceRanges(titleText, labels, article.explain)));
    else append(heading, el("span", { class: "muted", text: isCaption ? "（图片说明）" : (article.whole ? "全文" : "（无标题）") }));

    var chips = chipRow(article);

    var body = article.text || "";
    var text = el("div", { class: "card-text" }, highlighted(body, evidenceRanges(body, labels, article.explain)));

    return el("article", { class: "card" + (isCaption ? " caption" : ""), dataset: { index: String(index), kind: article.kind || "article" } },
      el("header", { class: "card-head" },
        el("span", { class: "card-num", text: String(index + 1) }),
        el("div", { class: "card-heading" },
          heading,
          article.byline ? el("p", { class: "byline", text: article.byline }) : null)),
      chips,
      scoreBars(article.scores || {}),
      text,
      evidenceList(labels, article.explain),
      entitiesBlock(article.entities),
      correctionForm(article, index));
  }

  /* ---------------------------------------------------------------- classify */

  function setStatus(message, kind) {
    var status = $("status");
    status.className = "status" + (kind ? " " + kind : "");
    status.textContent = message;
  }

  function classify() {
    var text = $("page-text").value;
    if (!text.trim()) { setStatus("请先粘贴稿件或版面文字。", "error"); $("page-text").focus(); return; }
    if (state.controller) state.controller.abort();
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    state.controller = controller;
    var split = $("opt-split").checked;
    var started = performance.now();
    $("classify-btn").disabled = true;
    $("results").setAttribute("aria-busy", "true");
    setStatus("正在标注…", "busy");
    api("/classify", { method: "POST", signal: controller ? controller.signal : undefined,
                       json: { text: text, split: split, explain: true, entities: true } })
      .then(function (res) {
        if (controller !== state.controller) return;
        if (!res.ok) {
          setStatus("标注失败（" + res.status + "）：" + res.message, "error");
          if (res.status === 401) $("token-box").open = true;
          return;
        }
        var data = res.data;
        var articles = data.articles || [{ kind: "article", title: "", byline: "", text: text, whole: true,
          labels: data.labels, scores: data.scores, explain: data.explain, entities: data.entities }];
        var ready = data.model && data.model !== state.metaVersion ? loadMeta(data.model).then(loadLabels).catch(function () {}) : Promise.resolve();
        return ready.then(function () {
          render(articles);
          state.lastText = text;
          revealResults();
          var captions = articles.filter(function (a) { return a.kind === "caption"; }).length;
          var ms = Math.round(performance.now() - started);
          setStatus((split ? "共 " + articles.length + " 篇" + (captions ? "（含图片说明 " + captions + " 则）" : "") : "整篇标注") +
            " · 模型 " + data.model + " · 用时 " + ms + " 毫秒", "done");
        });
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        setStatus("标注失败：" + (err && err.message ? err.message : "网络错误"), "error");
      })
      .then(function () {
        if (controller === state.controller) {
          $("classify-btn").disabled = false;
          $("results").removeAttribute("aria-busy");
        }
      });
  }

  // After 标注 the results must be seen: on a phone they start below the fold, so scroll to them.
  function revealResults() {
    var status = $("status");
    if (status.getBoundingClientRect().top > window.innerHeight * 0.5) {
      var smooth = !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
      status.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
    }
  }

  function render(articles) {
    var results = $("results");
    clear(results);
    if (!articles.length) {
      append(results, el("p", { class: "muted", text: "没有找到稿件。" }));
      return;
    }
    articles.forEach(function (a, i) { append(results, card(a, i)); });
  }

  /* ---------------------------------------------------------------- wiring */

  function blocks(text) {
    return text.split(/\n[ \t\u3000]*\n/).filter(function (b) { return b.trim(); }).length;
  }

  function onInput() {
    var text = $("page-text").value;
    $("char-count").textContent = text.length + " 字";
    if (!state.splitTouched) $("opt-split").checked = blocks(text) >= 2 || text.length >= 600;
  }

  function init() {
    var textarea = $("page-text");
    var tokenInput = $("admin-token");
    tokenInput.value = token();
    if (tokenInput.value) $("token-box").open = false;
    tokenInput.addEventListener("input", function () {
      try {
        if (tokenInput.value.trim()) sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch (e) { /* storage disabled: the field still works for this page */ }
    });
    $("forget-token").addEventListener("click", function () {
      tokenInput.value = "";
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
    });
    $("about-btn").addEventListener("click", function () {
      var about = $("about");
      about.hidden = !about.hidden;
      $("about-btn").setAttribute("aria-expanded", String(!about.hidden));
      if (!about.hidden) about.scrollIntoView({ block: "nearest" });
    });
    $("classify-form").addEventListener("submit", function (event) { event.preventDefault(); classify(); });
    textarea.addEventListener("input", onInput);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); classify(); }
    });
    $("opt-split").addEventListener("change", function () {
      state.splitTouched = true;
      if (state.lastText !== null && state.lastText === textarea.value) classify();
    });
    $("opt-all-scores").addEventListener("change", function (event) {
      $("results").classList.toggle("show-scores", event.target.checked);
    });
    $("results").classList.toggle("show-scores", $("opt-all-scores").checked);
    $("clear-btn").addEventListener("click", function () {
      textarea.value = "";
      state.splitTouched = false;
      state.lastText = null;
      onInput();
      $("opt-split").checked = true;
      clear($("results"));
      setStatus("");
      textarea.focus();
    });
    onInput();
    if (!textarea.value) $("opt-split").checked = true;
    Promise.all([loadLabels(), loadModels()]).catch(function () { /* shown in the header */ });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
