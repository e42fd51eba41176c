// Lay the briefing out on its one A4 page, then draw the trend chart (brief.html.j2).
//
// A page whose content would overflow shrinks a little (CSS zoom in steps, at most to 0.7).
// Then the room left is filled, in this order, each step as far as still fits:
//   1. (unshrunk pages only) the statistics table lists every violation type instead of
//      folding the last ones into 其他;
//   2. the hot-spot row grows: the map box taller (and wider for a wide region, the map drawn
//      at the larger size) and the trend chart taller;
//   3. the sections and table rows get more air (the CSS variable --air).
// The content is then stretched to the page so the footer sits at its foot. When everything
// is drawn, <html> gets data-brief-ready="1" (what yibao/brief/render.py waits for).
(function () {
  'use strict';
  var MM = 96 / 25.4;             // CSS pixels per millimetre
  var GROW_MAX = 42 * MM;         // the hot-spot row grows by at most this much
  var MAP_MAX_WIDTH = 104 * MM;   // the map box widens to at most this (89 mm at first)
  var AIR_MAX = 4.5 * MM;         // the largest extra gap (--air)
  var CHART_GAP = 1 * MM;         // the least gap kept above the trend chart's title
  // Printing lays text out a little wider than the screen does (a table cell may take one
  // more line in the PDF than in the PNG): keep this much spare so the footer still fits.
  var PRINT_SPARE = 4 * MM;

  var page = document.querySelector('.page');
  var content = document.querySelector('.content');
  var cs = getComputedStyle(page);
  var room = page.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom) - 1;
  var zoom = 1;                   // the content's CSS zoom (below 1 on a crowded page)
  var fits = function () {
    return content.getBoundingClientRect().height <= room - PRINT_SPARE;
  };

  // The largest x in [0, most] that still fits, found by bisection (set(x) lays the page out
  // with x; a larger x never makes the page shorter); the page is left laid out with it.
  function largest(set, most) {
    set(most);
    if (fits()) return most;
    var lo = 0, hi = most;
    for (var i = 0; i < 14 && hi - lo > 0.5; i++) {
      var mid = (lo + hi) / 2;
      set(mid);
      if (fits()) { lo = mid; } else { hi = mid; }
    }
    set(lo);
    return lo;
  }

  var row = content.querySelector('.row');
  var mapbox = row && row.querySelector('.mapbox');
  var svg = mapbox && mapbox.querySelector('svg');
  var trend = row && row.querySelector('.trend');
  var chart = document.getElementById('trend');
  // sizes in the content's own CSS pixels (offset sizes ignore its zoom; client rects do not)
  var base = row && {
    row: row.offsetHeight,
    mapWidth: mapbox.offsetWidth,
    mapHeight: mapbox.offsetHeight,
    chart: chart.offsetHeight,
    viewBox: svg && svg.getAttribute('viewBox'),
    width: svg && svg.getAttribute('width'),
    height: svg && svg.getAttribute('height'),
  };
  // the map's drawn extent (divisions, labels, scale bar) in its own units
  var drawn = svg && svg.childElementCount ? svg.getBBox() : null;

  // The hot-spot row g pixels taller than at first.
  function grow(g) {
    var height = base.row + g;
    row.style.minHeight = height + 'px';
    mapbox.style.height = Math.max(base.mapHeight, height) + 'px';
    if (drawn && drawn.width > 0 && drawn.height > 0 && g > 0) {
      var pad = 6, vw = drawn.width + 2 * pad, vh = drawn.height + 2 * pad;
      var inner = Math.max(base.mapHeight, height) - 2;
      var width = Math.min(Math.max(inner * vw / vh, base.mapWidth), MAP_MAX_WIDTH);
      var scale = Math.min((width - 2) / vw, inner / vh);
      mapbox.style.flexBasis = width + 'px';
      svg.setAttribute('viewBox', [drawn.x - pad, drawn.y - pad, vw, vh].join(' '));
      svg.setAttribute('width', (vw * scale).toFixed(1));
      svg.setAttribute('height', (vh * scale).toFixed(1));
    } else if (svg) {
      mapbox.style.flexBasis = '';
      svg.setAttribute('viewBox', base.viewBox);
      svg.setAttribute('width', base.width);
      svg.setAttribute('height', base.height);
    }
    // the trend chart takes the height the side column has to spare
    chart.style.height = base.chart + 'px';
    var above = trend.previousElementSibling;
    var spare = above ? (trend.getBoundingClientRect().top - above.getBoundingClientRect().bottom)
      / zoom - parseFloat(getComputedStyle(above).marginBottom) - CHART_GAP : 0;
    chart.style.height = (base.chart + Math.max(0, spare)) + 'px';
  }

  // shrink a page that would overflow; its steps may leave room, filled below like any other
  while (!fits() && zoom > 0.7) {
    zoom -= 0.02;
    content.style.zoom = zoom;
  }
  if (fits()) {
    if (zoom === 1 && content.querySelector('tr.more')) {
      content.classList.add('all-rows');
      if (!fits()) content.classList.remove('all-rows');
    }
    var grown = row && chart ? largest(grow, GROW_MAX) : 0;
    largest(function (air) {
      content.style.setProperty('--air', air + 'px');
      if (row && chart) grow(grown);
    }, AIR_MAX);
  }
  content.style.height = (room / zoom) + 'px';
  page.setAttribute('data-zoom', zoom.toFixed(2));

  function ready() { document.documentElement.setAttribute('data-brief-ready', '1'); }
  var spec = document.getElementById('trend-spec');
  if (!chart || !spec || !window.Plotly) { ready(); return; }
  var fig = JSON.parse(spec.textContent);
  fig.layout.width = chart.clientWidth;
  fig.layout.height = chart.clientHeight;
  window.Plotly.newPlot(chart, fig.data, fig.layout, fig.config).then(ready, ready);
})();
