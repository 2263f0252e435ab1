// Login form: POST /api/session, which sets an HttpOnly session cookie, then
// back to the page that sent us here (?next=, only pages of this site).
'use strict';

const form = document.getElementById('login');
const message = document.getElementById('message');

// An absolute URL of this site: "//evil.example", "/\\evil.example" or
// "https://..." would leave it, and so would "/<tab>/evil.example" (the URL
// parser drops tabs and newlines), so the check is the parser's own answer.
function nextPage() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  if (!next.startsWith('/')) return '/';
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.href : '/';
  } catch (error) {
    return '/';
  }
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
