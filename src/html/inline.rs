//! What the report page carries inline instead of fetching: its style
//! sheet and its one script.

/// The page's style sheet: a readable column, figures as wide as the
/// column (an SVG keeps its aspect ratio through its `viewBox`), a tall
/// picture (the ladder of a long transfer) scrolled inside its frame.
pub(super) const STYLE: &str = "\
:root { color-scheme: light; }
body { margin: 0; background: #eef0f3; color: #1d1f23;
  font: 15px/1.5 \"DejaVu Sans\", \"Helvetica Neue\", Arial, sans-serif; }
main { box-sizing: border-box; max-width: 1040px; margin: 0 auto; padding: 28px 40px 48px;
  background: #ffffff; min-height: 100vh; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 4px; border-bottom: 2px solid #d8dde3; }
h3 { font-size: 16px; margin: 28px 0 8px; }
a { color: #0b5cad; }
p.verdict { font-weight: 700; margin: 0 0 16px; }
.ok { color: #1a7f37; }
.failed { color: #c4231a; }
nav { background: #f6f8fa; border: 1px solid #d8dde3; border-radius: 4px; padding: 8px 20px; }
nav h2 { font-size: 16px; border: none; margin: 6px 0 2px; padding: 0; }
nav ol { margin: 4px 0; padding-left: 22px; }
nav ol ol { padding-left: 18px; }
pre, code { font-family: \"DejaVu Sans Mono\", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f6f8fa; border: 1px solid #d8dde3; border-radius: 4px; padding: 10px 12px;
  overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 5px; border-bottom: 1px solid #e3e6ea; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; border-bottom: 2px solid #d8dde3; white-space: normal; vertical-align: bottom; font-size: 11.5px; }
th.text, td.text { text-align: left; }
ul.checks { list-style: none; padding: 0; }
ul.checks li { margin: 3px 0; }
.badge { display: inline-block; min-width: 3.2em; margin-right: 8px; padding: 0 6px; border-radius: 3px;
  color: #ffffff; font-size: 12px; font-weight: 700; text-align: center; }
.badge.ok { background: #1a7f37; }
.badge.failed { background: #c4231a; }
figure { margin: 14px 0 30px; }
figcaption { margin-bottom: 6px; color: #3b4048; }
figcaption b { color: #1d1f23; }
.fig { border: 1px solid #d8dde3; background: #ffffff; max-height: 1400px; overflow: auto; }
.fig svg { display: block; width: 100%; height: auto; }
.note { background: #fff8d6; border: 1px solid #e6d58a; border-radius: 4px; padding: 8px 12px; }
@media (max-width: 720px) { main { padding: 16px 12px 32px; } }
";

/// The page's script: writes each figure's box (page pixels, the part of
/// the picture its frame shows) into the figure's `data-box` attribute,
/// and the page's height into `data-page-height` on `<body>`, so a test
/// that loads the page headless reads where the pictures are.
pub(super) const SCRIPT: &str = "\
(function () {
  function boxes() {
    var sx = window.scrollX, sy = window.scrollY;
    document.querySelectorAll('.fig').forEach(function (f) {
      var svg = f.querySelector('svg');
      if (!svg) { return; }
      var a = f.getBoundingClientRect(), b = svg.getBoundingClientRect();
      var left = Math.max(a.left + f.clientLeft, b.left), top = Math.max(a.top + f.clientTop, b.top);
      var right = Math.min(a.left + f.clientLeft + f.clientWidth, b.right);
      var bottom = Math.min(a.top + f.clientTop + f.clientHeight, b.bottom);
      f.setAttribute('data-box', [Math.ceil(left + sx), Math.ceil(top + sy),
        Math.floor(right - left), Math.floor(bottom - top)].join(','));
    });
    document.body.setAttribute('data-page-height', String(document.documentElement.scrollHeight));
  }
  boxes();
  window.addEventListener('load', boxes);
  window.addEventListener('resize', boxes);
})();
";
