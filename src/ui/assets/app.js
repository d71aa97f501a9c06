// The web inbox's one script (everything works without it): keyboard moves (j/k, Enter, /, ?) and the live banner.
/* global document, window, EventSource */

const rows = () => [...document.querySelectorAll('[data-row]')];
let selected = -1;

function select(index) {
  const all = rows();
  if (all.length === 0) return;
  selected = Math.max(0, Math.min(all.length - 1, index));
  all.forEach((row, i) => row.classList.toggle('selected', i === selected));
  const link = all[selected].querySelector('[data-open]');
  if (link) link.focus();
  all[selected].scrollIntoView({ block: 'nearest' });
}

function typing(target) {
  return target instanceof window.HTMLElement && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
}

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const help = document.getElementById('help');
  if (event.key === 'j') select(selected + 1);
  else if (event.key === 'k') select(selected - 1);
  else if (event.key === 'Enter' && selected >= 0 && document.activeElement === document.body) {
    rows()[selected]?.querySelector('[data-open]')?.click();
  } else if (event.key === '/') {
    const search = document.querySelector('[data-search]');
    if (!search) return;
    event.preventDefault();
    search.focus();
    search.select();
  } else if (event.key === '?' && help && !help.open) {
    help.showModal();
  } else return;
  event.preventDefault();
});

// The live banner: ids of new events arrive over Server-Sent Events; the list stays as it is until the reader asks.
const banner = document.getElementById('live');
if (banner?.dataset.live && 'EventSource' in window) {
  const seen = new Set();
  const title = document.title;
  const link = document.getElementById('live-link');
  const source = new EventSource(banner.dataset.live);
  source.addEventListener('events', (message) => {
    for (const id of JSON.parse(message.data)) seen.add(id);
    link.textContent = `${seen.size} new event${seen.size === 1 ? '' : 's'}, show them`;
    banner.hidden = false;
    document.title = `(${seen.size}) ${title}`;
  });
  window.addEventListener('pagehide', () => source.close());
}
