/**
 * The little of fontkit (pdfkit's own font parser, which ships no types)
 * that server/services/contract-font.ts uses: opening a font or collection
 * and asking whether a face can draw a character.
 */
declare module 'fontkit' {
  export interface Font {
    readonly postscriptName: string;
    hasGlyphForCodePoint(codePoint: number): boolean;
  }
  export interface FontCollection {
    readonly fonts: Font[];
  }
  export function create(buffer: Buffer, postscriptName?: string): Font | FontCollection;
}
