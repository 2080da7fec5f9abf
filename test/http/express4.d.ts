/** The `express4` dev dependency (`npm:express@^4`) has the types of `express`. */
declare module 'express4' {
  import express from 'express';
  export default express;
}
