export { type BinaryOperator, ExpressionError, type ExprNode, type ExprValue, LIMITS } from './ast.js';
export { type CompiledExpression, compileExpression } from './compile.js';
export { truthy } from './evaluate.js';
export { FUNCTIONS, SPECIAL_FORMS } from './functions.js';
export { parse } from './parser.js';
export { type Token, tokenize } from './tokenizer.js';
