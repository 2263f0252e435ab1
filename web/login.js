// Login form: POST /api/session, which sets an HttpOnly session cookie, then
// back to the page that sent us here (?next=, only paths of this site).
'use strict';

const form = document.getElementById('login');
const message = document.getElementById('message');

function nextPage() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  // A path on this site only: "//evil.example" or "https://..." would leave it.
  return /^\/(?![\/\\])/.test(next) ? next : '/';
}

form.addEventListener('submit', async event => {
  event.preventDefault();
  message.textContent = '';
  const body = JSON.stringify({
    user: document.getElementById('user').value,
    password: document.getElementById('password').value,
  });
  try {
    const response = await fetch('/api/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body, cache: 'no-store',
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      location.replace(nextPage());
      return;
    }
    message.textContent = answer.message || `login failed (HTTP ${response.status})`;
  } catch (error) {
    message.textContent = `service unreachable (${error.message})`;
  }
});

// Already logged in (or auth off): nothing to do here.
fetch('/api/session', { cache: 'no-store' }).then(async r => {
  const s = await r.json().catch(() => ({}));
  if (r.ok && (s.auth === false || s.user)) location.replace(nextPage());
}).catch(() => {});
