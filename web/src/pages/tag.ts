// The tag-files page (filled in below the scaffold).
import { el } from '../ui.js';

export async function showTag(root: HTMLElement): Promise<() => void> {
  root.append(el('h1', {}, 'Tag audio files'));
  return () => {};
}
