/**
 * The byte tokenizer as a GGUF vocabulary: 256 tokens, one per byte, spelled the way
 * byte-level BPE (GPT-2) spells bytes, so llama.cpp's "gpt2" tokenizer with no merges
 * maps text to exactly the byte ids Commons trains on, and back.
 */

/** GPT-2's printable stand-in for each byte: printable Latin-1 bytes stand for themselves. */
export function byteToUnicode (): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
  const out: string[] = []
  let next = 256
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : next++))
  return out
}
