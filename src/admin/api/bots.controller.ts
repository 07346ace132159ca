import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Query,
  UseGuards,
  UsePipes,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import { AdminPortGuard } from './admin-port.guard.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import {
  CreateBotDto,
  DeleteBotQuery,
  ListBotsQuery,
  UpdateBotDto,
  type BotList,
  type BotView,
} from './bot-admin.dto.js';
import { BotAdmin } from './bot-admin.service.js';
import { OPENAPI_DOCUMENT } from './openapi.js';

/** class-validator's messages in one line, as the API's other errors are: `{statusCode, error, message}`. */
function validationFailed(errors: ValidationError[]): BadRequestException {
  const messages = errors.flatMap((error) => Object.values(error.constraints ?? {}));
  return new BadRequestException(messages.join('; '));
}

const validation = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: validationFailed,
});

/** The admin API (ADMIN_PORT, bearer ADMIN_TOKEN): bots added, listed, changed and removed while running. */
@Controller('bots')
@UseGuards(AdminPortGuard, AdminTokenGuard)
@UsePipes(validation)
export class BotsController {
  constructor(private readonly admin: BotAdmin) {}

  @Post()
  create(@Body() body: CreateBotDto): Promise<BotView> {
    return this.admin.create(body);
  }

  @Get()
  list(@Query() query: ListBotsQuery): BotList {
    return this.admin.list(query.offset, query.limit);
  }

  @Get(':id')
  get(@Param('id', ParseIntPipe) id: number): BotView {
    return this.admin.get(id);
  }

  @Patch(':id')
  update(@Param('id', ParseIntPipe) id: number, @Body() body: UpdateBotDto): Promise<BotView> {
    return this.admin.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', ParseIntPipe) id: number, @Query() query: DeleteBotQuery): Promise<void> {
    return this.admin.remove(id, query.drop_pending === 'true');
  }
}

/** The API's OpenAPI description, on ADMIN_PORT without a token (it holds nothing secret). */
@Controller()
@UseGuards(AdminPortGuard)
export class OpenApiController {
  @Get('openapi.json')
  document(): object {
    return OPENAPI_DOCUMENT;
  }
}
