/* The counter screen's small progressive layer. Without it the page is plain forms: every tap
 * posts the basket and the server answers the page again. With it, a product tap fills the
 * basket in the page, the menu filters as you type, the member's QR is read with the camera
 * where the browser has a BarcodeDetector, and Pay is sent once. No library, no build step. */
(function () {
  "use strict";

  var root = document.querySelector("[data-kasir]");
  if (!root) return;
  var form = document.getElementById("kasir-basket");
  var lines = form.querySelector("[data-lines]");
  var template = form.querySelector("[data-line-template]");
  var empty = form.querySelector("[data-empty]");
  var subtotal = form.querySelector("[data-subtotal]");
  var quote = form.querySelector("[data-quote]");
  var money = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 0 });

  function rupiah(value) {
    return "Rp " + money.format(value);
  }

  function recount() {
    var total = 0;
    lines.querySelectorAll("[data-line]").forEach(function (row) {
      var input = row.querySelector("input");
      var quantity = Math.max(parseFloat(input.value) || 0, 0);
      var amount = quantity * (parseFloat(row.dataset.price) || 0);
      row.querySelector("[data-amount]").textContent = rupiah(amount);
      total += amount;
    });
    subtotal.textContent = rupiah(total);
    empty.hidden = lines.querySelector("[data-line]") !== null;
    if (quote) quote.hidden = true; // the server's total is for the basket it saw: count again
  }

  function add(productId, step) {
    var row = lines.querySelector('[data-line="' + productId + '"]');
    if (!row) {
      if (step < 0) return;
      var product = form.querySelector('.product[data-add="' + productId + '"]');
      if (!product) return;
      row = template.content.firstElementChild.cloneNode(true);
      row.dataset.line = productId;
      row.dataset.price = product.dataset.price;
      row.querySelector(".line-name").textContent = product.dataset.name;
      var input = row.querySelector("input");
      input.name = "q" + productId;
      input.value = "0";
      lines.appendChild(row);
    }
    var field = row.querySelector("input");
    var quantity = (parseFloat(field.value) || 0) + step;
    if (quantity <= 0) {
      row.remove();
    } else {
      field.value = String(Math.min(quantity, 999));
    }
    recount();
  }

  // product buttons, "yang biasa" (several ids), the basket's − and +
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add], [data-step]");
    if (!button || !root.contains(button)) return;
    event.preventDefault();
    if (button.dataset.add) {
      button.dataset.add.split(",").forEach(function (id) {
        add(id, 1);
      });
      return;
    }
    var row = button.closest("[data-line]");
    if (row) add(row.dataset.line, parseInt(button.dataset.step, 10));
  });
  lines.addEventListener("input", recount);
  // a changed payment (method, split) makes the server's split of the total stale
  form.querySelectorAll('[name="method"], [name="split_method"], [name="split_amount"]').forEach(
    function (input) {
      input.addEventListener("change", function () {
        var paid = form.querySelector("[data-paid]");
        if (paid) paid.hidden = true;
      });
    }
  );

  // a voucher from the card fills the code field
  root.querySelectorAll("[data-voucher]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      event.stopPropagation();
      form.querySelector('[name="voucher"]').value = button.dataset.voucher;
    });
  });

  // the menu filters as you type
  var filter = form.querySelector("[data-menu-filter]");
  var products = form.querySelectorAll(".product");
  form.querySelectorAll("[data-nojs]").forEach(function (el) {
    el.hidden = true;
  });
  if (filter) {
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      products.forEach(function (product) {
        product.hidden = wanted !== "" && product.dataset.name.toLowerCase().indexOf(wanted) < 0;
      });
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault(); // Enter filters; it never pays
    });
  }

  // Pay is sent once: a second tap while the first is on its way does nothing (the server
  // records the basket once anyway: the same key replays the same sale)
  form.addEventListener("submit", function (event) {
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    window.setTimeout(function () {
      delete form.dataset.sending; // a flaky network: let the cashier try again
    }, 8000);
  });
  window.addEventListener("pageshow", function () {
    delete form.dataset.sending;
  });

  // the member's QR code, read with the camera where the browser can
  var scan = root.querySelector("[data-scan]");
  var box = root.querySelector("[data-scanner]");
  if (scan && "BarcodeDetector" in window && navigator.mediaDevices) {
    // shown only where the browser can read a QR code (typing the member code otherwise)
    var supported = window.BarcodeDetector.getSupportedFormats
      ? window.BarcodeDetector.getSupportedFormats()
      : Promise.resolve(["qr_code"]);
    supported.then(function (formats) {
      scan.hidden = formats.indexOf("qr_code") < 0;
    }, function () {});
    var video = box.querySelector("video");
    var stream = null;
    var stop = function () {
      box.hidden = true;
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    };
    box.querySelector("[data-scan-stop]").addEventListener("click", stop);
    scan.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "environment" } })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          box.hidden = false;
          return video.play();
        })
        .then(function look() {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            if (codes.length && codes[0].rawValue) {
              var find = root.querySelector(".kasir-find");
              find.querySelector('[name="q"]').value = codes[0].rawValue.trim();
              stop();
              find.submit();
            } else {
              window.setTimeout(look, 250);
            }
          }, function () { window.setTimeout(look, 500); });
        })
        .catch(stop);
    });
  }
})();
