// Who is logged in, shown in the page header with a logout button; any answer
// 401 sends the browser to the login page and back here afterwards.
'use strict';

const camrelaySession = (() => {
  function toLogin() {
    location.assign(`/login.html?next=${encodeURIComponent(location.pathname + location.search)}`);
  }

  async function logout() {
    await fetch('/api/session', { method: 'DELETE', cache: 'no-store' }).catch(() => {});
    toLogin();
  }

  async function show() {
    const header = document.querySelector('header');
    try {
      const response = await fetch('/api/session', { cache: 'no-store' });
      if (response.status === 401) return toLogin();
      const s = await response.json();
      if (!s.auth || !s.user) return;
      const box = document.createElement('span');
      box.className = 'session';
      box.id = 'session';
      box.textContent = `${s.user} (${s.role}) `;
      const button = document.createElement('button');
      button.id = 'logout';
      button.textContent = 'Log out';
      button.addEventListener('click', logout);
      box.append(button);
      header.append(box);
    } catch (error) { /* the page's own polling reports an unreachable service */ }
  }

  // For the pages' fetch() answers and WebSocket closes.
  function checkAnswer(response) {
    if (response.status === 401) toLogin();
    return response;
  }

  async function stillLoggedIn() {
    const response = await fetch('/api/session', { cache: 'no-store' }).catch(() => null);
    if (response && response.status === 401) toLogin();
  }

  show();
  return { checkAnswer, stillLoggedIn, logout };
})();
