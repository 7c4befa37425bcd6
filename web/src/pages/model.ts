// The models list and the page per model (filled in below the scaffold).
import { el } from '../ui.js';

export async function showModels(root: HTMLElement): Promise<() => void> {
  root.append(el('h1', {}, 'Models'));
  return () => {};
}

export async function showModel(root: HTMLElement, id: string): Promise<() => void> {
  root.append(el('h1', {}, `Model ${id}`));
  return () => {};
}
