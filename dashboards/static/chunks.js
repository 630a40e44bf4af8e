// Benchmark page: each history chunk is a script (d/*.js) that hands its data here; a
// script, not a fetch, so pages work from file:// too. charts.js assembles them.
(function () {
  "use strict";
  var chunks = (window.perfciChunks = []);
  window.perfciChunk = function (chunk) { chunks.push(chunk); };
})();
