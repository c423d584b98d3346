// The desk wallboard's per-agent table, sortable by any column (issue 16): each column head
// is a button; a second press reverses the order; aria-sort says the order to screen readers.
// The order survives the board's updates (every change redraws the rows). Defines
// window.IvrBoard.showAgents; loaded after wallboard-feed.js, before wallboard.js.
(function () {
  const {el, minutes} = window.IvrBoard;
  const COLUMNS = [  // key, how a row sorts (text or number; no figure sorts last)
    ['name', (a) => a.name.toLowerCase()], ['state', (a) => a.state],
    ['for', (a) => a.for], ['handled', (a) => a.handled], ['aht', (a) => a.aht]];
  let sortKey = 'name', direction = 1, last = [];

  function compare(get) {
    return (x, y) => {
      const a = get(x), b = get(y);
      if (a == null || b == null) return a == null ? (b == null ? 0 : 1) : -1;
      return (a < b ? -1 : a > b ? 1 : 0) * direction;
    };
  }
  function draw() {
    const get = COLUMNS.find(([key]) => key === sortKey)[1];
    const rows = last.slice().sort(compare(get));
    const body = document.getElementById('agents'); body.replaceChildren();
    for (const a of rows) {
      const tr = el('tr'); tr.dataset.agent = a.id;
      tr.append(el('td', a.name), el('td', a.state.replace('_', ' ')), el('td', minutes(a.for)),
        el('td', a.handled, 'num'), el('td', minutes(a.aht), 'num'));
      body.append(tr);
    }
    for (const th of document.querySelectorAll('#agents-table th[data-sort]')) {
      const on = th.dataset.sort === sortKey;
      th.setAttribute('aria-sort', on ? (direction > 0 ? 'ascending' : 'descending') : 'none');
    }
  }
  for (const th of document.querySelectorAll('#agents-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      direction = th.dataset.sort === sortKey ? -direction : 1;
      sortKey = th.dataset.sort;
      draw();
    });
  }
  window.IvrBoard.showAgents = (agents) => { last = agents || []; draw(); };
})();
