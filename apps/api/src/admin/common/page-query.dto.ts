import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_PAGE_SIZE = 500;

/** `?page=1&pageSize=50`: 1-based page number and page size (at most 500). */
export class PageQueryDto {
  @ApiPropertyOptional({ example: 1, default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page: number = 1;

  @ApiPropertyOptional({ example: 50, default: 50, minimum: 1, maximum: MAX_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  pageSize: number = 50;

  get offset(): number {
    return (this.page - 1) * this.pageSize;
  }
}

export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export function paged<T>(query: PageQueryDto, items: T[], total: number): Paged<T> {
  return { items, total, page: query.page, pageSize: query.pageSize };
}

/**
 * The Swagger class of a page of `item` (generics are erased at run time, so each item type needs a
 * concrete class): `export class DevicePageDto extends PageOf(DeviceDto) {}`.
 */
export function PageOf<T>(item: ClassType<T>): ClassType<Paged<T>> {
  class Page implements Paged<T> {
    @ApiProperty({ type: [item] })
    items!: T[];
    @ApiProperty({ example: 1 })
    total!: number;
    @ApiProperty({ example: 1 })
    page!: number;
    @ApiProperty({ example: 50 })
    pageSize!: number;
  }
  return Page;
}
