// mamlviz's drawing canvas (pages/_drawing.py): one character drawn with a mouse,
// a pen or a finger, sent to Python as a PNG each time a stroke ends.
//
// The canvas is 210 px square, twice Omniglot's 105 px drawings, with a 6 px pen: once
// halved, strokes as thick as Omniglot's. Python sends {"clear": label}.

const SIZE = 210;
const PEN = 6;

function paper(ctx) {
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, SIZE, SIZE);
}

export default function ({ data, parentElement, setStateValue }) {
  const spec = typeof data === "string" ? JSON.parse(data) : {};
  let root = parentElement.querySelector(".mamlviz-drawing");
  if (root) {
    root.querySelector("button").textContent = spec.clear || "Clear";
    return undefined;
  }
  root = document.createElement("div");
  root.className = "mamlviz-drawing";
  const canvas = document.createElement("canvas");
  canvas.width = SIZE;
  canvas.height = SIZE;
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = spec.clear || "Clear";
  root.append(canvas, clear);
  parentElement.appendChild(root);

  const ctx = canvas.getContext("2d");
  paper(ctx);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = PEN;
  ctx.strokeStyle = "#000000";
  let drawing = false;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * SIZE / box.width,
            (event.clientY - box.top) * SIZE / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = at(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.01, y);  // a dot is a stroke too
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = at(event);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    setStateValue("image", canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear.addEventListener("click", () => {
    paper(ctx);
    setStateValue("image", null);
  });
  return undefined;
}
