// Turns an inline SVG figure into a PNG download, in the browser (no server round trip).
document.querySelectorAll(".png-download").forEach(function (link) {
  link.addEventListener("click", function (event) {
    event.preventDefault();
    var svg = link.closest("figure").querySelector("svg");
    var data = new XMLSerializer().serializeToString(svg);
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = svg.width.baseVal.value * 2;
      canvas.height = svg.height.baseVal.value * 2;
      var context = canvas.getContext("2d");
      context.scale(2, 2);
      context.drawImage(image, 0, 0);
      var a = document.createElement("a");
      a.download = link.dataset.name + ".png";
      a.href = canvas.toDataURL("image/png");
      document.body.appendChild(a);
      a.click();
      a.remove();
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data);
  });
});
