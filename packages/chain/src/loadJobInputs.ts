import { CID } from 'multiformats/cid'
import type { Hex } from 'viem'
import { baseWeightsFrom, dataTokensRoot, parseRecipe, type EngineContext, type Recipe, type Tensor, type TokenStream } from '@commons/engine'
import { readVersionFile, type BlockReader } from '@commons/store'
import { BpeTokenizer, parseTokenizerJson } from '@commons/tokenizer'
import { checkJobTerms, JobTermsError, type PostedTerms } from './checkJobTerms.ts'
import { hexToCid } from './cids.ts'

/** A job's terms as posted, with the CIDs of its recipe and dataset (`readJob(...).spec`). */
export interface JobTermsWithContent extends PostedTerms {
  recipeCid: Hex
  datasetCid: Hex
}

/** Where a node gets a job's content by the job's CIDs (a node: over the network, into its store). */
export interface JobContent {
  /** The bytes of the raw block `cid` (the recipe's JSON). */
  recipe: (cid: CID) => Promise<Uint8Array>
  /**
   * The dataset version `cid`, tokenized with `tokenizer` ('byte', or a BPE's tokenizer.json
   * CID), and that tokenizer.json. A node hands a stored stream (read by windows, its root
   * and range recorded as it was written), so no job holds its tokens in memory.
   */
  tokens: (cid: CID, tokenizer: string) => Promise<{ tokens: Int32Array | TokenStream, tokenizerJson: Uint8Array | null }>
  /** A fine-tuning recipe's base weights, in slot order, from the model folder `cid` (baseWeightsFrom). */
  base: (cid: CID, recipe: Recipe) => Promise<Tensor[]>
}

/** A job's inputs, checked against its terms: the recipe to train is the job's. */
export interface JobInputs {
  recipe: Recipe
  /** The tokens in memory, or a stored stream read by windows (training, replay and disputes take either). */
  tokens: Int32Array | TokenStream
  /** A BPE recipe's tokenizer.json (kept beside the run). */
  tokenizerJson?: Uint8Array
  /** A fine-tuning recipe's base weights (S_0's parameters), in slot order. */
  base?: Tensor[]
}

/**
 * A job's recipe and tokens, every term checked (checkJobTerms): the recipe and the
 * dataset are had by the job's CIDs from `content`, the tokens root and the program hash
 * must be theirs, and the recipe returned carries the job's seed and steps. Any failure
 * is a JobTermsError whose `details.term` names what is wrong.
 */
export async function loadJobInputs (engine: EngineContext, jobId: bigint, terms: JobTermsWithContent, content: JobContent): Promise<JobInputs> {
  const refuse = (term: string, why: string, cause?: unknown): never => {
    throw new JobTermsError(`job ${jobId}: ${why}`, { hint: 'the job is not claimed', details: { jobId, term }, cause })
  }
  const recipeCid = hexToCid(terms.recipeCid)
  const datasetCid = hexToCid(terms.datasetCid)
  if (recipeCid === null) return refuse('recipe', 'its recipe CID is not a CID')
  if (datasetCid === null) return refuse('dataset', 'its dataset CID is not a CID')
  let bytes: Uint8Array
  try {
    bytes = await content.recipe(recipeCid)
  } catch (cause) {
    return refuse('recipe', `its recipe ${String(recipeCid)} could not be fetched`, cause)
  }
  let recipe: Recipe
  try {
    recipe = parseRecipe(JSON.parse(Buffer.from(bytes).toString('utf8')), `recipe ${String(recipeCid)}`)
  } catch (cause) {
    return refuse('recipe', `its recipe ${String(recipeCid)} is not a valid recipe`, cause)
  }
  let tokens: Int32Array | TokenStream
  let tokenizerJson: Uint8Array | null
  try {
    ({ tokens, tokenizerJson } = await content.tokens(datasetCid, recipe.tokenizer))
  } catch (cause) {
    return refuse('dataset', `its dataset ${String(datasetCid)} could not be fetched or read`, cause)
  }
  // What would only fail once training began (after the claim, with the stake locked) is refused now.
  if (tokenizerJson !== null) {
    let vocab: number
    try {
      vocab = new BpeTokenizer(parseTokenizerJson(JSON.parse(Buffer.from(tokenizerJson).toString('utf8')))).vocab
    } catch (cause) {
      return refuse('tokenizer', `its tokenizer ${recipe.tokenizer} is not a tokenizer.json`, cause)
    }
    if (vocab !== recipe.model.vocab) return refuse('tokenizer', `its tokenizer has ${vocab} tokens, its model ${recipe.model.vocab}`)
  }
  const outside = outsideVocabulary(tokens, recipe.model.vocab)
  if (outside !== null) return refuse('dataset', `its tokens include ${outside}, outside the model's vocabulary of ${recipe.model.vocab}`)
  let base: Tensor[] | undefined
  if (recipe.base !== undefined) {
    let baseCid: CID
    try {
      baseCid = CID.parse(recipe.base)
    } catch (cause) {
      return refuse('base', `its base ${recipe.base} is not a CID`, cause)
    }
    try {
      base = await content.base(baseCid, recipe)
    } catch (cause) {
      return refuse('base', `its base model ${recipe.base} could not be fetched or is not the recipe's model`, cause)
    }
  }
  return {
    recipe: checkJobTerms(engine, jobId, terms, recipe, dataTokensRoot(tokens), base),
    tokens,
    ...(tokenizerJson !== null ? { tokenizerJson } : {}),
    ...(base !== undefined ? { base } : {})
  }
}

/** A token outside [0, vocab): found by a scan of an array, by the recorded range of a stream; null if none. */
function outsideVocabulary (tokens: Int32Array | TokenStream, vocab: number): number | null {
  if (tokens instanceof Int32Array) {
    const at = tokens.findIndex(t => t < 0 || t >= vocab)
    return at < 0 ? null : tokens[at]
  }
  if (tokens.length === 0) return null
  return tokens.min < 0 ? tokens.min : tokens.max >= vocab ? tokens.max : null
}

/**
 * The base weights of a fine-tuning recipe from a store holding its model folder
 * (`recipe.base`: a run or an imported model, published as a version), in slot order;
 * undefined for a recipe that draws its weights from its seed.
 */
export async function baseWeightsOf (blocks: BlockReader, recipe: Recipe): Promise<Tensor[] | undefined> {
  if (recipe.base === undefined) return undefined
  const bytes = await readVersionFile(blocks, CID.parse(recipe.base), 'model.safetensors')
  return baseWeightsFrom(recipe, bytes, `the base model ${recipe.base}`)
}
