// The clienteling home's search box (templates/admin/index.html): asks /admin/customer-search/ as the user types,
// at most one request in flight per pause in typing, and lists the customers found as links to their pages.
"use strict";
(function () {
  const form = document.querySelector(".home-search");
  if (!form) return;
  const input = document.getElementById("home-search-input");
  const results = document.getElementById("home-search-results");
  const status = document.getElementById("home-search-status");
  const minimumLength = 2;
  const pauseMs = 200;
  let timer = null;
  let controller = null;

  function show(data) {
    results.replaceChildren();
    for (const customer of data.results) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = customer.url;
      link.className = "home-search-result";
      const name = document.createElement("strong");
      name.textContent = customer.name;
      link.append(name, " ", customer.id);
      const details = [customer.tier, customer.points !== null && customer.points !== undefined ? customer.points + " points" : "",
        customer.email, customer.phone, customer.store].filter(Boolean);
      if (details.length) {
        const detail = document.createElement("span");
        detail.className = "quiet";
        detail.textContent = " · " + details.join(" · ");
        link.append(detail);
      }
      item.append(link);
      results.append(item);
    }
    const count = data.results.length;
    status.textContent = count === 0 ? "No customer found." : (data.more ? "More than " + count + " found: type more, or press Enter." : count + (count === 1 ? " customer" : " customers") + " found.");
  }

  async function search(term) {
    if (controller) controller.abort();
    controller = new AbortController();
    const url = form.dataset.searchUrl + "?q=" + encodeURIComponent(term);
    try {
      const response = await fetch(url, {signal: controller.signal, headers: {"Accept": "application/json"}});
      const data = await response.json();
      if (!response.ok) {
        results.replaceChildren();
        status.textContent = data.message || "The search failed.";
        return;
      }
      show(data);
    } catch (error) {
      if (error.name !== "AbortError") status.textContent = "The search failed: " + error.message;
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    const term = input.value.trim();
    if (term.length < minimumLength) {
      results.replaceChildren();
      status.textContent = "";
      return;
    }
    timer = setTimeout(function () { search(term); }, pauseMs);
  });
})();
