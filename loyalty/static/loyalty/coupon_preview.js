/*
 * The eligibility preview on the coupon definition page (admin/loyalty/coupondefinition/change_form.html).
 *
 * Whenever the coupon form or the "test a customer" inputs change, waits for a pause in typing, then sends the
 * form's current values to the admin's preview endpoint (GET, nothing is saved) and shows its answer: members
 * eligible now per tier and in total, and whether the tested customer could use the coupon, with the reasons.
 */
"use strict";
(function () {
  const DELAY_MS = 400;

  function onReady(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function reasonList(reasons) {
    const list = element("ul");
    reasons.forEach(function (reason) {
      list.appendChild(element("li", reason.text));
    });
    return list;
  }

  onReady(function () {
    const panel = document.getElementById("coupon-preview");
    const adminForm = document.getElementById("coupondefinition_form");
    const previewForm = document.getElementById("coupon-preview-form");
    if (!panel || !adminForm || !previewForm) {
      return;
    }
    const summary = document.getElementById("coupon-preview-summary");
    const tiersTable = document.getElementById("coupon-preview-tiers");
    const vouchersLine = document.getElementById("coupon-preview-vouchers");
    const customerResult = document.getElementById("coupon-preview-customer-result");
    let timer = null;
    let latest = 0;

    function query() {
      const params = new URLSearchParams();
      // The tiers chooser (filter_horizontal) keeps the chosen tiers in its "to" box, selected only on submit.
      const chosenTiers = document.getElementById("id_eligible_tiers_to");
      new FormData(adminForm).forEach(function (value, name) {
        if (name === "csrfmiddlewaretoken" || typeof value !== "string") {
          return;
        }
        if (name === "eligible_tiers" && chosenTiers) {
          return;
        }
        params.append(name, value);
      });
      if (chosenTiers) {
        Array.prototype.forEach.call(chosenTiers.options, function (option) {
          params.append("eligible_tiers", option.value);
        });
      }
      new FormData(previewForm).forEach(function (value, name) {
        params.append(name, value);
      });
      return params;
    }

    function showError(message) {
      summary.textContent = message;
      summary.className = "errornote";
      tiersTable.hidden = true;
      vouchersLine.textContent = "";
      customerResult.textContent = "";
    }

    function showTiers(data) {
      const body = tiersTable.tBodies[0];
      body.textContent = "";
      data.tiers.forEach(function (tier) {
        const row = element("tr");
        row.appendChild(element("td", tier.name));
        row.appendChild(element("td", tier.members.toLocaleString()));
        row.appendChild(element("td", tier.eligible.toLocaleString()));
        body.appendChild(row);
      });
      tiersTable.tFoot.querySelector(".members").textContent = data.members.toLocaleString();
      tiersTable.tFoot.querySelector(".eligible").textContent = data.eligible.toLocaleString();
      tiersTable.hidden = false;
    }

    function showVouchers(vouchers) {
      let text = vouchers.live.toLocaleString() + " vouchers issued, " + vouchers.redeemed.toLocaleString() +
        " redeemed";
      if (vouchers.left !== null) {
        text += "; the total limit allows " + vouchers.left.toLocaleString() + " more";
      }
      vouchersLine.textContent = text + ".";
    }

    function showCustomer(customer) {
      customerResult.textContent = "";
      if (!customer) {
        return;
      }
      if (!customer.found) {
        customerResult.appendChild(element("p", customer.message, "preview-not-eligible"));
        return;
      }
      const who = customer.public_id + " (" + (customer.tier || "no tier") + "): ";
      if (customer.eligible) {
        const discount = customer.discount === null ? "" : ", discount " + customer.discount;
        customerResult.appendChild(element("p", who + "eligible" + discount, "preview-eligible"));
      } else {
        customerResult.appendChild(element("p", who + "not eligible", "preview-not-eligible"));
        customerResult.appendChild(reasonList(customer.reasons));
      }
    }

    function show(data) {
      summary.className = "";
      if (data.open) {
        summary.textContent = data.eligible.toLocaleString() + " of " + data.members.toLocaleString() +
          " members could use the coupon now.";
      } else {
        summary.textContent = "Nobody can use the coupon now: " +
          data.closed_reasons.map(function (reason) { return reason.text; }).join(" ");
      }
      showTiers(data);
      showVouchers(data.vouchers);
      showCustomer(data.customer);
    }

    function refresh() {
      const request = ++latest;
      fetch(panel.dataset.url + "?" + query().toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (request !== latest) {
            return; // an answer to an older state of the form
          }
          if (result.ok) {
            show(result.body);
          } else {
            showError(result.body.message || "The preview failed.");
          }
        })
        .catch(function () {
          if (request === latest) {
            showError("The preview could not be loaded.");
          }
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    }

    adminForm.addEventListener("input", schedule);
    adminForm.addEventListener("change", schedule);
    // The calendar and clock shortcuts set values without an input event; a click is what precedes them.
    adminForm.addEventListener("click", schedule);
    previewForm.addEventListener("submit", function (event) {
      event.preventDefault();
      schedule();
    });
    // The tiers chooser (filter_horizontal) is built by Django's SelectFilter2 on the window's load event; moving a
    // tier between its boxes fires no event, so watch the chosen box instead.
    function watchChosenTiers() {
      const chosenTiers = document.getElementById("id_eligible_tiers_to");
      if (chosenTiers) {
        new MutationObserver(schedule).observe(chosenTiers, { childList: true });
      }
      refresh();
    }
    if (document.readyState === "complete") {
      watchChosenTiers();
    } else {
      window.addEventListener("load", watchChosenTiers);
    }
  });
})();
