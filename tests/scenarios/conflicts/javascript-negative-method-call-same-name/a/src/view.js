// Widgets drawn from templates.

export class Widget {
  constructor(root, template) {
    this.root = root;
    this.template = template;
  }

  render(data) {
    this.root.innerHTML = this.template(data);
  }
}
