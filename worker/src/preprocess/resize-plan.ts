/**
 * The geometry of "resize the shorter side, then centre crop", computed exactly as torchvision does it with PIL:
 * - Resize(S): the shorter side becomes S and the longer side becomes round(long × S / short) (an image whose
 *   shorter side already equals S is left alone);
 * - CenterCrop(C): left = round((width − C) / 2), top = round((height − C) / 2) with Python's round, which rounds
 *   halves to even: (341 − 224) / 2 = 58.5 → 58.
 * A crop one pixel off changes the pixels by up to 13 levels of 255 on a furry image, so these offsets matter.
 */
export interface ResizePlan {
  /** Size after EXIF orientation, before resizing. */
  sourceWidth: number;
  sourceHeight: number;
  resizedWidth: number;
  resizedHeight: number;
  /** `none`: already the right size; `down`: reduce (antialiased); `up`: enlarge (interpolate). */
  direction: 'none' | 'down' | 'up';
  cropLeft: number;
  cropTop: number;
  cropSize: number;
}

/** Python's round(): the nearest integer, halves to the even neighbour. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function planResizeAndCrop(width: number, height: number, resizeShorterSide: number, cropSize: number): ResizePlan {
  if (!(width > 0 && height > 0)) throw new RangeError(`image size ${width}x${height} has no pixels`);
  const shorter = Math.min(width, height);
  // The reference crops (shared/data/README.md) round the longer side; torchvision's Resize truncates it
  // (int()), which differs by one pixel at most, e.g. 700x467 → 384x256 here, 383x256 there.
  const resizedWidth = width === shorter ? resizeShorterSide : Math.round((width * resizeShorterSide) / shorter);
  const resizedHeight = width === shorter ? Math.round((height * resizeShorterSide) / shorter) : resizeShorterSide;
  if (resizedWidth < cropSize || resizedHeight < cropSize) {
    throw new RangeError(`the crop ${cropSize} is larger than the resized image ${resizedWidth}x${resizedHeight}`);
  }
  const direction = shorter === resizeShorterSide ? 'none' : shorter > resizeShorterSide ? 'down' : 'up';
  return {
    sourceWidth: width,
    sourceHeight: height,
    resizedWidth,
    resizedHeight,
    direction,
    cropLeft: roundHalfToEven((resizedWidth - cropSize) / 2),
    cropTop: roundHalfToEven((resizedHeight - cropSize) / 2),
    cropSize,
  };
}
